using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Limits;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Accounts;

/// <summary>
/// An account's limits: when its idle IDEs are stopped, and (for masters) what each member may run here at once.
/// Core decides who may change what (IdleSettingsService, LimitService); refusals become 404/403, invalid values a message.
/// </summary>
public sealed class LimitsModel(AccountService accounts, IdleSettingsService idle, LimitService limits, CurrentUser currentUser) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    public AccountResponse Account { get; private set; } = null!;

    public IdleSettingsResponse Idle { get; private set; } = null!;

    public IReadOnlyList<(MemberResponse Member, MemberLimitsResponse Limits)> Members { get; private set; } = [];

    public MyLimitsResponse Mine { get; private set; } = null!;

    public bool IsMaster => Account.Role == "master";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var userId = currentUser.Id;
        var account = await accounts.GetAsync(userId, Id, ct);
        if (!account.IsSuccess)
        {
            return NotFound();
        }

        Account = account.Value!;
        Idle = (await idle.GetAsync(userId, Id, ct)).Value!;
        Mine = await limits.GetMineAsync(userId, ct);
        if (IsMaster)
        {
            var members = (await accounts.ListMembersAsync(userId, Id, 1, Paging.MaxPageSize, null, ct)).Value?.Items ?? [];
            var rows = new List<(MemberResponse, MemberLimitsResponse)>();
            foreach (var member in members)
            {
                if ((await limits.GetMemberAsync(userId, Id, member.UserId, ct)).Value is { } set)
                {
                    rows.Add((member, set));
                }
            }

            Members = rows;
        }

        return Page();
    }

    public async Task<IActionResult> OnPostIdleAsync(int? idleCullMinutes, int? idleWarningMinutes, CancellationToken ct)
    {
        var result = await idle.SetAsMasterAsync(currentUser.Id, Id, new UpdateIdleSettingsRequest(idleCullMinutes, idleWarningMinutes), ct);
        return this.RedirectOrFlash(result.IsSuccess ? Result.Success : result.Error!, "Idle culling saved.", () => RedirectToPage(new { Id }));
    }

    public async Task<IActionResult> OnPostMemberAsync(Guid memberId, int? maxDeployments, double? maxCpus, int? maxGpus, CancellationToken ct)
    {
        var result = await limits.SetMemberAsync(currentUser.Id, Id, memberId, new UpdateLimitsRequest(maxDeployments, maxCpus, maxGpus), ct);
        return this.RedirectOrFlash(result.IsSuccess ? Result.Success : result.Error!, "Limits saved.", () => RedirectToPage(new { Id }));
    }
}
