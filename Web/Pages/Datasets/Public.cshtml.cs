using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Datasets;

namespace Platform.Web.Pages.Datasets;

/// <summary>
/// The public catalog: what owners published for everyone, paged with search. Signed-in users always see it; visitors
/// only when an admin allows it (Admin → Public catalog), otherwise they are sent to sign in. Opening or downloading an
/// entry always needs an account: the details page and the file routes are not anonymous.
/// </summary>
public sealed class PublicModel(DatasetService datasets, SettingsService settings) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public bool SignedIn => User.Identity?.IsAuthenticated == true;

    public PagedResponse<DatasetResponse> Datasets { get; private set; } = new([], 0, 1, PageSize);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!SignedIn && !await settings.GetAnonymousCatalogAsync(ct))
        {
            return Challenge();
        }

        Datasets = await datasets.CatalogAsync(Math.Max(1, PageNumber), PageSize, Search, ct);
        return Page();
    }
}
