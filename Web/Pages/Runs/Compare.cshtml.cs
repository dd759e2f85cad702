using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Metrics;
using Platform.Core.Persistence;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Runs;

/// <summary>
/// Several runs overlaid: the same metric of every run on one chart ("run · metric"), drawn by js/board.js like a
/// single board. A run the user may not see makes the whole page not found, as for one run.
/// </summary>
public sealed class CompareModel(PlatformDbContext db, CurrentUser currentUser) : PageModel
{
    public const int MaxRuns = 20;

    [BindProperty(SupportsGet = true)]
    public List<Guid> Ids { get; set; } = [];

    public IReadOnlyList<(Guid Id, string Name)> Runs { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var ids = Ids.Distinct().Take(MaxRuns).ToList();
        var found = await RunAccess.Visible(db, currentUser.Id).AsNoTracking().Where(r => ids.Contains(r.Id))
            .Select(r => new { r.Id, r.Name }).ToListAsync(ct);
        if (found.Count < ids.Count)
        {
            return NotFound();
        }

        Runs = [.. ids.Select(id => found.Single(f => f.Id == id)).Select(f => (f.Id, f.Name))];
        return Page();
    }
}
