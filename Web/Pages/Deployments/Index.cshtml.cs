using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Deployments;

/// <summary>
/// The caller's deployments (and those shared with them, or with <c>?scope=account</c> every member's in the accounts
/// they are master of) with their state and its reason, links when running, and stop/start/delete as allowed. While any
/// of them is on its way somewhere (queued, starting, stopping) the page refreshes itself every few seconds.
/// </summary>
public sealed class IndexModel(DeploymentService deployments, CurrentUser currentUser) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    /// <summary>None: yours and those shared with you; "mine", "shared", or "account" (masters: every member's).</summary>
    [BindProperty(SupportsGet = true)]
    public string? Scope { get; set; }

    public PagedResponse<DeploymentResponse> Deployments { get; private set; } = new([], 0, 1, PageSize);

    public bool InTransition => Deployments.Items.Any(d => DeploymentStates.InTransition(d));

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var listed = await deployments.ListAsync(currentUser.Id, Scope, Math.Max(1, PageNumber), PageSize, ct);
        if (!listed.IsSuccess)
        {
            return NotFound();
        }

        Deployments = listed.Value!;
        return Page();
    }

    public async Task<IActionResult> OnPostStopAsync(Guid deploymentId, CancellationToken ct) =>
        Done(await deployments.StopAsync(currentUser.Id, deploymentId, ct), "Stopping: the workspace is kept for the next start.");

    public async Task<IActionResult> OnPostStartAsync(Guid deploymentId, CancellationToken ct) =>
        Done(await deployments.StartAsync(currentUser.Id, deploymentId, ct), "Starting again with the same workspace.");

    public async Task<IActionResult> OnPostDeleteAsync(Guid deploymentId, CancellationToken ct)
    {
        var deleted = await deployments.DeleteAsync(currentUser.Id, deploymentId, ct);
        return this.RedirectOrFail(deleted, "Deleting: the deployment and its workspace are being removed.",
            () => RedirectToPage(new { p = PageNumber > 1 ? PageNumber : (int?)null, scope = Scope }));
    }

    private IActionResult Done(Result<DeploymentResponse> result, string message) =>
        this.RedirectOrFail(result.IsSuccess ? Result.Success : result.Error!, message,
            () => RedirectToPage(new { p = PageNumber > 1 ? PageNumber : (int?)null, scope = Scope }));
}

/// <summary>How pages show a deployment's state.</summary>
public static class DeploymentStates
{
    public static bool InTransition(DeploymentResponse d) =>
        d.Observed is "queued" or "starting" or "stopping" || d.Desired == "deleted"
        || (d.Desired == "running" && d.Observed is "stopped") || (d.Desired == "stopped" && d.Observed is "running");

    public static string Tone(DeploymentResponse d) => d.Observed switch
    {
        "running" => "success",
        "failed" => "danger",
        "queued" or "starting" or "stopping" => "warning",
        _ => "secondary",
    };
}
