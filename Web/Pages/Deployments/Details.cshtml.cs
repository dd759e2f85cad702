using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Deployments;

/// <summary>
/// One deployment: its state and why, hardware, backend, the link when running, and every event so far; for its owner
/// also who it is shared with. Buttons follow what the caller may do: the owner everything, a master of the account
/// stop, a sharee only open.
/// </summary>
public sealed class DetailsModel(DeploymentService deployments, CurrentUser currentUser) : PageModel
{
    public const int EventPageSize = 50;

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    /// <summary>The share form: the e-mail of the user to share with.</summary>
    [BindProperty]
    public string? ShareEmail { get; set; }

    public DeploymentResponse Deployment { get; private set; } = null!;

    /// <summary>Who it is shared with; filled for the owner only (nobody else may manage shares).</summary>
    public IReadOnlyList<DeploymentShareResponse> Shares { get; private set; } = [];

    public PagedResponse<DeploymentEventResponse> Events { get; private set; } = new([], 0, 1, EventPageSize);

    /// <summary>Whether the events shown are the newest ones, the page that live updates extend.</summary>
    public bool ShowsNewestEvents => Events.Page >= (int)Math.Ceiling(Events.Total / (double)EventPageSize);

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ?? Page();

    public async Task<IActionResult> OnPostShareAsync(CancellationToken ct)
    {
        var shared = await deployments.ShareAsync(currentUser.Id, Id, new CreateDeploymentShareRequest(ShareEmail), ct);
        if (shared.IsSuccess)
        {
            this.Flash($"Shared with {shared.Value!.Email}: they can open the IDE while it runs, not change the deployment.");
            return RedirectToPage(new { id = Id });
        }

        if (shared.Error!.Kind is not ErrorKind.Validation)
        {
            return this.RedirectOrFail(shared.Error, "", () => RedirectToPage(new { id = Id }));
        }

        ModelState.Clear();
        foreach (var message in shared.Error.Fields?.SelectMany(f => f.Value) ?? [shared.Error.Message])
        {
            ModelState.AddModelError(nameof(ShareEmail), message);
        }

        return await LoadAsync(ct) ?? Page();
    }

    public async Task<IActionResult> OnPostUnshareAsync(Guid userId, CancellationToken ct) =>
        Done(await deployments.UnshareAsync(currentUser.Id, Id, userId, ct), "No longer shared: their next request to the IDE is refused.");

    private async Task<IActionResult?> LoadAsync(CancellationToken ct)
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
        if (Deployment.Access == "owner")
        {
            Shares = (await deployments.ListSharesAsync(currentUser.Id, Id, ct)).Value ?? [];
        }

        return null;
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
        Done(result.IsSuccess ? Result.Success : result.Error!, message);

    private IActionResult Done(Result result, string message) => this.RedirectOrFail(result, message, () => RedirectToPage(new { id = Id }));
}
