using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Jobs;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Jobs;

/// <summary>A job's logs on a page of their own (the job page shows the same partial): owner and masters of the account; 404 for others.</summary>
public sealed class LogsModel(JobService jobs, CurrentUser currentUser) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    public JobResponse Job { get; private set; } = null!;

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var found = await jobs.GetAsync(currentUser.Id, Id, ct);
        if (!found.IsSuccess)
        {
            return NotFound();
        }

        Job = found.Value!;
        return Page();
    }
}
