using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Catalog;
using Platform.Web.Markdown;

namespace Platform.Web.Pages.Catalog;

/// <summary>One module: its README (rendered safely: see <see cref="SafeMarkdown"/>), services, images and resource ranges. Public, like the list.</summary>
public sealed class DetailsModel(ModuleCatalog catalog) : PageModel
{
    public ModuleManifest Module { get; private set; } = null!;

    public string ReadmeHtml { get; private set; } = "";

    public bool SignedIn => User.Identity?.IsAuthenticated == true;

    public async Task<IActionResult> OnGetAsync(string name, CancellationToken ct)
    {
        if ((await catalog.GetAsync(ct)).Modules.FirstOrDefault(m => m.Name == name) is not { } module)
        {
            return NotFound();
        }

        Module = module;
        ReadmeHtml = SafeMarkdown.ToHtml(module.ReadmeMarkdown);
        return Page();
    }
}
