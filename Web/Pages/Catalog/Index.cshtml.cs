using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Catalog;

namespace Platform.Web.Pages.Catalog;

/// <summary>
/// What people can deploy: a card per module with search and a tag filter in the query string (so it works without
/// script and can be linked). Public: it describes the platform and holds nothing of anyone's. Deploying needs an account,
/// so visitors get a sign-in link where members get "Configure".
/// </summary>
public sealed class IndexModel(ModuleCatalog catalog) : PageModel
{
    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "tag")]
    public string? Tag { get; set; }

    public bool SignedIn => User.Identity?.IsAuthenticated == true;

    public IReadOnlyList<ModuleManifest> Modules { get; private set; } = [];

    public IReadOnlyList<string> Tags { get; private set; } = [];

    public bool Filtered => !string.IsNullOrWhiteSpace(Search) || !string.IsNullOrWhiteSpace(Tag);

    public async Task OnGetAsync(CancellationToken ct)
    {
        var snapshot = await catalog.GetAsync(ct);
        Tags = CatalogSearch.Tags(snapshot.Modules);
        Modules = CatalogSearch.Filter(snapshot.Modules, Search, Tag);
    }
}
