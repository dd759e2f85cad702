using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;
using Platform.Core.Metrics;
using Platform.Core.Persistence;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Jobs;

/// <summary>
/// The job dashboard: the active jobs as cards (progress, elapsed time, or why and how long a queued one waits), then
/// the whole history as a table filtered by state, submission time and name, sorted by time or name, keyset-paged with
/// the list's cursors. Live updates (js/jobs-live.js) redraw states and progress in place. Rows of jobs that logged
/// metrics have a checkbox: "Compare runs" opens their runs overlaid (/Runs/Compare, js/runs.js).
/// </summary>
public sealed class IndexModel(JobService jobs, CurrentUser currentUser, PlatformDbContext db) : PageModel
{
    public const int GridSize = 24;
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true)]
    public string? Status { get; set; }

    /// <summary>Submitted from / to: a datetime-local value, read as UTC.</summary>
    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Q { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Scope { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Sort { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Order { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? After { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Before { get; set; }

    public JobListResponse Active { get; private set; } = new([], null, null, false, 0);

    public JobListResponse Jobs { get; private set; } = new([], null, null, false, 0);

    /// <summary>The run of each listed job that has one the user may see (<see cref="RunAccess"/>), by job id.</summary>
    public IReadOnlyDictionary<Guid, Guid> RunOf { get; private set; } = new Dictionary<Guid, Guid>();

    public bool Filtered => !string.IsNullOrEmpty(Status) || !string.IsNullOrEmpty(From) || !string.IsNullOrEmpty(To) || !string.IsNullOrEmpty(Q);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var from = Time(From, nameof(From));
        var to = Time(To, nameof(To));
        var active = await jobs.ListAsync(currentUser.Id, new ListJobsQuery(Status: "active", Scope: Scope, PageSize: GridSize), ct);
        if (active.IsSuccess)
        {
            Active = active.Value!;
        }

        if (!ModelState.IsValid)
        {
            return Page();
        }

        var listed = await jobs.ListAsync(currentUser.Id, new ListJobsQuery(Status, from, to, Q, Scope, null, Sort, Order, After, Before, PageSize), ct);
        if (listed.IsSuccess)
        {
            Jobs = listed.Value!;
            var ids = Jobs.Items.Select(j => (Guid?)j.Id).ToList();
            RunOf = await RunAccess.Visible(db, currentUser.Id).AsNoTracking()
                .Where(r => ids.Contains(r.JobId))
                .ToDictionaryAsync(r => r.JobId!.Value, r => r.Id, ct);
        }
        else
        {
            foreach (var (field, messages) in listed.Error!.Fields ?? new Dictionary<string, string[]>())
            {
                var key = field switch
                {
                    "status" => nameof(Status),
                    "from" => nameof(From),
                    "to" => nameof(To),
                    "q" => nameof(Q),
                    "sort" or "order" => nameof(Sort),
                    _ => "",
                };
                foreach (var message in messages)
                {
                    ModelState.AddModelError(key, message);
                }
            }
        }

        return Page();
    }

    private DateTimeOffset? Time(string? text, string field)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var value))
        {
            return value;
        }

        ModelState.AddModelError(field, "Not a date and time (such as 2026-11-21 18:00, UTC).");
        return null;
    }

    /// <summary>This page's address with some query values changed (null removes one); paging and sorting keep the filters.</summary>
    public string Link(params (string Key, string? Value)[] changes)
    {
        var query = Request.Query.ToDictionary(q => q.Key, q => (string?)q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in changes)
        {
            query[key] = value;
        }

        var kept = query.Where(q => !string.IsNullOrEmpty(q.Value) && q.Key != "handler").ToList();
        return Microsoft.AspNetCore.WebUtilities.QueryHelpers.AddQueryString("/Jobs", kept);
    }
}

/// <summary>How pages show a job's state and times.</summary>
public static class JobStates
{
    public static string Tone(string state) => state switch
    {
        "running" => "primary",
        "succeeded" => "success",
        "failed" => "danger",
        "queued" or "starting" or "stopping" => "warning",
        _ => "secondary",
    };

    public static string Duration(TimeSpan span) => span.TotalSeconds < 0 ? "0 s"
        : span.TotalMinutes < 1 ? $"{(int)span.TotalSeconds} s"
        : span.TotalHours < 1 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
        : span.TotalDays < 1 ? $"{(int)span.TotalHours} h {span.Minutes} min"
        : $"{(int)span.TotalDays} d {span.Hours} h";

    public static string Ordinal(int n) => (n % 100) is 11 or 12 or 13 ? $"{n}th" : (n % 10) switch { 1 => $"{n}st", 2 => $"{n}nd", 3 => $"{n}rd", _ => $"{n}th" };

    /// <summary>"queued: waiting for 1 GPU, 2nd in line, about 4 min".</summary>
    public static string? QueueLine(JobResponse j, DateTimeOffset now)
    {
        if (j.State != "queued")
        {
            return null;
        }

        var parts = new List<string> { j.QueueReason ?? "waiting for the scheduler" };
        if (j.QueuePosition is { } position)
        {
            parts.Add($"{Ordinal(position)} in line");
        }

        if (j.EstimatedStartAt is { } at)
        {
            parts.Add(at <= now ? "any moment now" : $"about {Duration(at - now)}");
        }

        return "queued: " + string.Join(", ", parts);
    }
}
