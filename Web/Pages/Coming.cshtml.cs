using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Web.Navigation;

namespace Platform.Web.Pages;

/// <summary>The page of an area that is not built yet: it says what the area will do rather than leading nowhere.</summary>
public sealed class ComingModel : PageModel
{
    public PlatformArea Area { get; private set; } = PlatformAreas.All[0];

    public IActionResult OnGet(string area)
    {
        if (PlatformAreas.FindComing(area) is not { } found)
        {
            return NotFound();
        }

        Area = found;
        return Page();
    }
}
