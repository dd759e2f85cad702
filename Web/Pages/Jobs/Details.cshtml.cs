using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Core.Storage;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Jobs;

/// <summary>
/// One job: its state and why, while queued its place and estimated start, a timeline, the spec, the replicas, the
/// events, and Stop (confirmed), Clone (the form, prefilled) and Resubmit (the same spec again). Other users' jobs are
/// not found.
/// </summary>
public sealed class DetailsModel(JobService jobs, CurrentUser currentUser) : PageModel
{
    public const int EventsPageSize = 50;

    [BindProperty(SupportsGet = true, Name = "ep")]
    public int EventsPage { get; set; } = 1;

    public JobResponse Job { get; private set; } = null!;

    public PagedResponse<JobEventResponse> Events { get; private set; } = new([], 0, 1, EventsPageSize);

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken ct)
    {
        var job = await jobs.GetAsync(currentUser.Id, id, ct);
        if (!job.IsSuccess)
        {
            return NotFound();
        }

        Job = job.Value!;
        var events = await jobs.EventsAsync(currentUser.Id, id, Math.Max(1, EventsPage), EventsPageSize, ct);
        if (events.IsSuccess)
        {
            Events = events.Value!;
        }

        return Page();
    }

    public async Task<IActionResult> OnPostStopAsync(Guid id, CancellationToken ct)
    {
        var stopped = await jobs.StopAsync(currentUser.Id, id, ct);
        return this.RedirectOrFail(stopped.IsSuccess ? Result.Success : stopped.Error!, "Stopping: the replicas are being stopped.",
            () => RedirectToPage(new { id }));
    }

    public async Task<IActionResult> OnPostDeleteAsync(Guid id, [FromServices] IObjectStore store, CancellationToken ct)
    {
        var deleted = await jobs.DeleteAsync(currentUser.Id, id, store, ct);
        if (deleted.IsSuccess)
        {
            this.Flash("The job was deleted, with its logs, run and metric points.");
            return RedirectToPage("Index");
        }

        return this.RedirectOrFail(deleted, "", () => RedirectToPage(new { id }));
    }

    public async Task<IActionResult> OnPostResubmitAsync(Guid id, CancellationToken ct)
    {
        var clone = await jobs.CloneAsync(currentUser.Id, id, null, ct);
        if (clone.IsSuccess)
        {
            this.Flash($"Resubmitted as a new job: “{clone.Value!.Name}”.");
            return RedirectToPage(new { id = clone.Value.Id });
        }

        if (clone.Error!.Kind == ErrorKind.NotFound)
        {
            return NotFound();
        }

        // The spec no longer passes (a dataset gone, a limit lowered): the form says what to change.
        this.FlashError($"It cannot be resubmitted as it was: {string.Join(" ", clone.Error.Fields?.SelectMany(f => f.Value) ?? [clone.Error.Message])}");
        return RedirectToPage("New", new { from = id });
    }
}
