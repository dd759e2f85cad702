using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Admin;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Admin;

/// <summary>
/// The platform at a glance: component health, the registration mode, the public catalog's visibility, the module
/// catalog (source, errors, reload) and the users. Reaching this page at all needs
/// the PlatformAdmin policy (a database check on every request); the actions here are Core's admin operations.
/// </summary>
public sealed class IndexModel(AdminService admin, ComponentHealthService health, CurrentUser currentUser, ModuleCatalog catalog) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<ComponentHealth> Components { get; private set; } = [];

    public SettingsResponse Settings { get; private set; } = new("open");

    public PagedResponse<AdminUserResponse> Users { get; private set; } = new([], 0, 1, PageSize);

    public Guid MyId => currentUser.Id;

    public CatalogSnapshot Modules { get; private set; } = null!;

    public CatalogFailure? ModulesFailure => catalog.LastFailure;

    public async Task OnGetAsync(CancellationToken ct)
    {
        Components = await health.CheckAllAsync(ct);
        Settings = await admin.GetSettingsAsync(ct);
        Modules = await catalog.GetAsync(ct);
        Users = await admin.ListUsersAsync(PageNumber, PageSize, Search, ct);
    }

    public async Task<IActionResult> OnPostRegistrationAsync(string? mode, CancellationToken ct)
    {
        var result = await admin.UpdateSettingsAsync(new UpdateSettingsRequest(mode), ct);
        Result outcome = result.IsSuccess ? Result.Success : result.Error!;
        var message = result.Value?.RegistrationMode == "invite-only"
            ? "Registration is now by invitation only."
            : "Registration is now open to anyone who can reach this site.";
        return this.RedirectOrFail(outcome, message, () => RedirectToPage());
    }

    /// <summary>Whether visitors who are not signed in may list the public catalog (signed-in users always can).</summary>
    public async Task<IActionResult> OnPostCatalogAsync(bool anonymous, CancellationToken ct)
    {
        var result = await admin.UpdateSettingsAsync(new UpdateSettingsRequest(null, anonymous), ct);
        Result outcome = result.IsSuccess ? Result.Success : result.Error!;
        var message = anonymous
            ? "Visitors who are not signed in can now list the public catalog; downloading still needs an account."
            : "The public catalog is now for signed-in users only.";
        return this.RedirectOrFail(outcome, message, () => RedirectToPage());
    }

    /// <summary>Reads the module catalog's source again; Api and Workers follow through the database generation.</summary>
    public async Task<IActionResult> OnPostReloadCatalogAsync(CancellationToken ct)
    {
        var result = await catalog.ReloadAsync(ct);
        if (result.Succeeded)
        {
            var errors = result.Snapshot.Errors.Count;
            this.Flash($"Catalog reloaded: {result.Snapshot.Modules.Count} modules" +
                (errors == 0 ? "." : $", {errors} {(errors == 1 ? "error" : "errors")} (listed under Module catalog)."));
        }
        else
        {
            this.FlashError($"The catalog could not be reloaded; the previous one stays. {result.Error}");
        }

        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostAdminAsync(Guid userId, bool grant, CancellationToken ct)
    {
        var result = await admin.SetAdminAsync(userId, grant, ct);
        return this.RedirectOrFail(result, grant ? "Admin granted." : "Admin withdrawn; it takes effect on that user's next request.",
            () => RedirectToPage(new { q = Search, p = PageNumber > 1 ? PageNumber : (int?)null }));
    }
}
