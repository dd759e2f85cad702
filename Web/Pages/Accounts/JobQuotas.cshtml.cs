using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Web.Extensions;
using Platform.Web.Identity;
using Platform.Web.Pages.Shared;

namespace Platform.Web.Pages.Accounts;

/// <summary>
/// Job quotas in an account: what applies to the caller and what they and the account use; for masters, each member's
/// quotas (never above the account's, which platform admins set). Core decides who may change what (JobQuotaService);
/// invalid values come back beside their field.
/// </summary>
public sealed class JobQuotasModel(AccountService accounts, JobQuotaService quotas, CurrentUser currentUser) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    /// <summary>The member whose quotas the master edits (none: the list only).</summary>
    [BindProperty(SupportsGet = true)]
    public Guid? Member { get; set; }

    [BindProperty]
    public JobQuotaInput Input { get; set; } = new();

    public AccountResponse Account { get; private set; } = null!;

    public MyAccountJobQuotas? Mine { get; private set; }

    public IReadOnlyList<MemberResponse> Members { get; private set; } = [];

    public MemberJobQuotasResponse? Editing { get; private set; }

    public bool IsMaster => Account.Role == "master";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct))
        {
            return NotFound();
        }

        if (Editing is not null)
        {
            Input = JobQuotaInput.From(Editing.Limits);
        }

        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (Member is not { } member)
        {
            return NotFound();
        }

        var result = await quotas.SetMemberAsync(currentUser.Id, Id, member, Input.ToRequest(withWeight: false), ct);
        if (result.IsSuccess)
        {
            this.Flash("Job quotas saved.");
            return RedirectToPage(new { Id, Member });
        }

        if (result.Error!.Kind is ErrorKind.NotFound or ErrorKind.Forbidden)
        {
            return NotFound();
        }

        ModelState.AddError<JobQuotaInput>(result.Error);
        return await LoadAsync(ct) ? Page() : NotFound();
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        var userId = currentUser.Id;
        var account = await accounts.GetAsync(userId, Id, ct);
        if (!account.IsSuccess)
        {
            return false;
        }

        Account = account.Value!;
        Mine = (await quotas.GetMineAsync(userId, ct)).Accounts.FirstOrDefault(a => a.AccountId == Id);
        if (IsMaster)
        {
            Members = (await accounts.ListMembersAsync(userId, Id, 1, Paging.MaxPageSize, null, ct)).Value?.Items ?? [];
            if (Member is { } member)
            {
                Editing = (await quotas.GetMemberAsync(userId, Id, member, ct)).Value;
            }
        }

        return true;
    }
}
