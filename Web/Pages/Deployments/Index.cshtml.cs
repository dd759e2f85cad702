using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Deployments;

/// <summary>
/// The caller's deployments with their state and its reason, links when running, and stop/start/delete. While any of
/// them is on its way somewhere (queued, starting, stopping) the page refreshes itself every few seconds.
/// </summary>
public sealed class IndexModel(DeploymentService deployments, CurrentUser currentUser) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public PagedResponse<DeploymentResponse> Deployments { get; private set; } = new([], 0, 1, PageSize);

    public bool InTransition => Deployments.Items.Any(d => DeploymentStates.InTransition(d));

    public async Task OnGetAsync(CancellationToken ct) =>
        Deployments = await deployments.ListAsync(currentUser.Id, Math.Max(1, PageNumber), PageSize, ct);

    public async Task<IActionResult> OnPostStopAsync(Guid deploymentId, CancellationToken ct) =>
        Done(await deployments.StopAsync(currentUser.Id, deploymentId, ct), "Stopping: the workspace is kept for the next start.");

    public async Task<IActionResult> OnPostStartAsync(Guid deploymentId, CancellationToken ct) =>
        Done(await deployments.StartAsync(currentUser.Id, deploymentId, ct), "Starting again with the same workspace.");

    public async Task<IActionResult> OnPostDeleteAsync(Guid deploymentId, CancellationToken ct)
    {
        var deleted = await deployments.DeleteAsync(currentUser.Id, deploymentId, ct);
        return this.RedirectOrFail(deleted, "Deleting: the deployment and its workspace are being removed.",
            () => RedirectToPage(new { p = PageNumber > 1 ? PageNumber : (int?)null }));
    }

    private IActionResult Done(Result<DeploymentResponse> result, string message) =>
        this.RedirectOrFail(result.IsSuccess ? Result.Success : result.Error!, message,
            () => RedirectToPage(new { p = PageNumber > 1 ? PageNumber : (int?)null }));
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
