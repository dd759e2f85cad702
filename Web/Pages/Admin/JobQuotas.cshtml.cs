using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Web.Extensions;
using Platform.Web.Pages.Shared;

namespace Platform.Web.Pages.Admin;

/// <summary>
/// Platform admins set an account's job quotas and fair-share weight (<c>/Admin/JobQuotas/{id}</c>; the /Admin folder is
/// admins-only). Invalid values come back beside their field.
/// </summary>
public sealed class JobQuotasModel(JobQuotaService quotas) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    [BindProperty]
    public JobQuotaInput Input { get; set; } = new();

    public AccountJobQuotasResponse Current { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if ((await quotas.GetAccountAsync(Id, ct)).Value is not { } current)
        {
            return NotFound();
        }

        Current = current;
        Input = JobQuotaInput.From(current.Limits, current.Weight);
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        var result = await quotas.SetAccountAsync(Id, Input.ToRequest(withWeight: true), ct);
        if (result.IsSuccess)
        {
            this.Flash("Job quotas saved.");
            return RedirectToPage(new { Id });
        }

        if (result.Error!.Kind == ErrorKind.NotFound)
        {
            return NotFound();
        }

        ModelState.AddError<JobQuotaInput>(result.Error);
        if ((await quotas.GetAccountAsync(Id, ct)).Value is not { } current)
        {
            return NotFound();
        }

        Current = current;
        return Page();
    }
}
