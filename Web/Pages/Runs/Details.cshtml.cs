using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Metrics;
using Platform.Core.Persistence;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Runs;

/// <summary>
/// A run's board. The server renders the shell (name, state, job, export links) for a run the user may see
/// (<see cref="RunAccess"/>; anyone else gets 404); js/board.js loads the series from the REST API (rollups first for
/// huge series), draws them with plotly and follows the run live over the hub.
/// </summary>
public sealed class DetailsModel(PlatformDbContext db, CurrentUser currentUser) : PageModel
{
    /// <summary>?raw=1 loads every raw point (the export) rather than the rollups: the first-paint bench's peer.</summary>
    [BindProperty(SupportsGet = true, Name = "raw")]
    public string? RawQuery { get; set; }

    public bool Raw => RawQuery is "1" or "true";

    public Run Run { get; private set; } = null!;

    public string? JobName { get; private set; }

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken ct)
    {
        var run = await RunAccess.Visible(db, currentUser.Id).AsNoTracking().FirstOrDefaultAsync(r => r.Id == id, ct);
        if (run is null)
        {
            return NotFound();
        }

        Run = run;
        if (run.JobId is { } jobId)
        {
            JobName = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => j.Name).FirstOrDefaultAsync(ct);
        }

        return Page();
    }
}
