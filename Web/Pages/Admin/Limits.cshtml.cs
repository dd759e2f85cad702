using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Limits;
using Platform.Web.Extensions;

namespace Platform.Web.Pages.Admin;

/// <summary>
/// Platform admins set a user's platform-wide limits (<c>/Admin/Limits/User/{id}</c>) or an account's idle culling
/// (<c>/Admin/Limits/Account/{id}</c>). The /Admin folder is admins-only (Extensions.AddWebServices).
/// </summary>
public sealed class LimitsModel(LimitService limits, IdleSettingsService idle, Platform.Core.Persistence.PlatformDbContext db) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string Kind { get; set; } = "";

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    public string Name { get; private set; } = "";

    public UserLimitsResponse? UserLimits { get; private set; }

    public IdleSettingsResponse? Idle { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (Kind == "User")
        {
            UserLimits = (await limits.GetUserAsync(Id, ct)).Value;
            Name = await db.Users.Where(u => u.Id == Id).Select(u => u.DisplayName + " (" + u.Email + ")").FirstOrDefaultAsync(ct) ?? "";
            return UserLimits is null ? NotFound() : Page();
        }

        Name = await db.Accounts.Where(a => a.Id == Id).Select(a => a.Name).FirstOrDefaultAsync(ct) ?? "";
        Idle = (await idle.DescribeAsync(Id, ct)).Value;
        return Idle is null ? NotFound() : Page();
    }

    public async Task<IActionResult> OnPostUserAsync(int? maxDeployments, double? maxCpus, int? maxGpus, CancellationToken ct)
    {
        var result = await limits.SetUserAsync(Id, new UpdateLimitsRequest(maxDeployments, maxCpus, maxGpus), ct);
        return this.RedirectOrFlash(result.IsSuccess ? Result.Success : result.Error!, "Limits saved.", () => RedirectToPage(new { Kind, Id }));
    }

    public async Task<IActionResult> OnPostAccountAsync(int? idleCullMinutes, int? idleWarningMinutes, CancellationToken ct)
    {
        var result = await idle.SetAsync(Id, new UpdateIdleSettingsRequest(idleCullMinutes, idleWarningMinutes), ct);
        return this.RedirectOrFlash(result.IsSuccess ? Result.Success : result.Error!, "Idle culling saved.", () => RedirectToPage(new { Kind, Id }));
    }
}
