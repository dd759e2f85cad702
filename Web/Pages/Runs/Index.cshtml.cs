using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Metrics;
using Platform.Core.Persistence;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Runs;

/// <summary>One row of the runs table.</summary>
public sealed record RunRow(
    Guid Id, string Name, Guid? JobId, string? JobName, string? JobState, string Owner, bool Mine, string State,
    long PointCount, int SeriesCount, long Dropped, DateTimeOffset UpdatedAt);

/// <summary>
/// The user's runs: the metrics of their jobs and of their experiments outside jobs (notebooks, scripts), filtered by
/// kind, state and name, newest first, paged. Masters see the whole current account with scope=account. Who sees a run
/// is <see cref="RunAccess"/>, as for the REST API. Rows can be picked to compare (/Runs/Compare) or deleted (the
/// REST API, from js/runs.js, after a confirmation).
/// </summary>
public sealed class IndexModel(PlatformDbContext db, CurrentUser currentUser) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)]
    public string? Scope { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Kind { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? State { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public bool IsMaster { get; private set; }

    public PagedResponse<RunRow> Runs { get; private set; } = new([], 0, 1, PageSize);

    public bool Filtered => !string.IsNullOrEmpty(Kind) || !string.IsNullOrEmpty(State) || !string.IsNullOrEmpty(Q);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var me = await currentUser.RequireAsync(ct);
        IsMaster = me.Current?.Role == "master";
        var runs = RunAccess.Visible(db, me.Id).AsNoTracking();
        if (Scope == "account" && me.Current is { } account && IsMaster)
        {
            runs = runs.Where(r => r.AccountId == account.Id);
        }
        else
        {
            Scope = Scope == "account" ? Scope : null;
            runs = runs.Where(r => r.OwnerUserId == me.Id);
        }

        runs = Kind switch
        {
            "job" => runs.Where(r => r.JobId != null),
            "experiment" => runs.Where(r => r.JobId == null),
            _ => runs,
        };
        runs = State switch
        {
            "open" => runs.Where(r => r.State == RunState.Open),
            "finished" => runs.Where(r => r.State == RunState.Finished),
            _ => runs,
        };
        if (!string.IsNullOrWhiteSpace(Q))
        {
            var pattern = "%" + Q.Trim().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            runs = runs.Where(r => EF.Functions.ILike(r.Name, pattern, "\\"));
        }

        var page = Math.Max(1, PageNumber);
        var total = await runs.CountAsync(ct);
        var rows = await runs
            .OrderByDescending(r => r.UpdatedAt).ThenBy(r => r.Id)
            .Skip((page - 1) * PageSize).Take(PageSize)
            .Select(r => new
            {
                r.Id, r.Name, r.JobId, r.OwnerUserId, r.State, r.PointCount, r.Dropped, r.UpdatedAt,
                Job = db.Jobs.Where(j => j.Id == r.JobId).Select(j => new { j.Name, j.Observed }).FirstOrDefault(),
                Owner = db.Users.Where(u => u.Id == r.OwnerUserId).Select(u => u.DisplayName).FirstOrDefault(),
                Series = db.MetricSeries.Count(s => s.RunId == r.Id),
            })
            .ToListAsync(ct);
        Runs = new PagedResponse<RunRow>(
            [.. rows.Select(r => new RunRow(r.Id, r.Name, r.JobId, r.Job?.Name, r.Job?.Observed.ToString().ToLowerInvariant(),
                r.Owner ?? "—", r.OwnerUserId == me.Id, r.State == RunState.Open ? "open" : "finished",
                r.PointCount, r.Series, r.Dropped, r.UpdatedAt))],
            total, page, PageSize);
        return Page();
    }

    /// <summary>This page's address with some query values changed (null removes one); filters keep the scope.</summary>
    public string Link(params (string Key, string? Value)[] changes)
    {
        var query = Request.Query.ToDictionary(q => q.Key, q => (string?)q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in changes)
        {
            query[key] = value;
        }

        var kept = query.Where(q => !string.IsNullOrEmpty(q.Value) && q.Key != "handler").ToList();
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/Runs", kept);
    }

    public static string Count(long n) => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture);
}
