using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Deployments;

/// <summary>One deployment: its state and why, hardware, backend, the link when running, and every event so far.</summary>
public sealed class DetailsModel(DeploymentService deployments, CurrentUser currentUser) : PageModel
{
    public const int EventPageSize = 50;

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public DeploymentResponse Deployment { get; private set; } = null!;

    public PagedResponse<DeploymentEventResponse> Events { get; private set; } = new([], 0, 1, EventPageSize);

    /// <summary>Whether the events shown are the newest ones, the page that live updates extend.</summary>
    public bool ShowsNewestEvents => Events.Page >= (int)Math.Ceiling(Events.Total / (double)EventPageSize);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var found = await deployments.GetAsync(currentUser.Id, Id, ct);
        if (!found.IsSuccess)
        {
            return NotFound();
        }

        Deployment = found.Value!;
        var events = await deployments.EventsAsync(currentUser.Id, Id, null, EventPageSize, ct);
        // Newest page first: the last events are what a person waiting wants to read.
        var last = Math.Max(1, (int)Math.Ceiling((events.Value?.Total ?? 0) / (double)EventPageSize));
        Events = (await deployments.EventsAsync(currentUser.Id, Id, PageNumber > 0 ? Math.Min(PageNumber, last) : last, EventPageSize, ct)).Value
            ?? Events;
        return Page();
    }

    public async Task<IActionResult> OnPostStopAsync(CancellationToken ct) =>
        Done(await deployments.StopAsync(currentUser.Id, Id, ct), "Stopping: the workspace is kept for the next start.");

    public async Task<IActionResult> OnPostStartAsync(CancellationToken ct) =>
        Done(await deployments.StartAsync(currentUser.Id, Id, ct), "Starting with the same workspace.");

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        var deleted = await deployments.DeleteAsync(currentUser.Id, Id, ct);
        return deleted.IsSuccess
            ? this.RedirectOrFail(deleted, "Deleting: the deployment and its workspace are being removed.", () => RedirectToPage("Index"))
            : deleted.Error!.Kind == ErrorKind.NotFound ? NotFound() : this.RedirectOrFail(deleted, "", () => RedirectToPage(new { id = Id }));
    }

    private IActionResult Done(Result<DeploymentResponse> result, string message) =>
        result.Error is { Kind: ErrorKind.NotFound }
            ? NotFound()
            : this.RedirectOrFail(result.IsSuccess ? Result.Success : result.Error!, message, () => RedirectToPage(new { id = Id }));
}
