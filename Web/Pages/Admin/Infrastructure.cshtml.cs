using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Jobs.Backends;
using Platform.Core.Usage;

namespace Platform.Web.Pages.Admin;

/// <summary>
/// The batch backend's nodes for platform admins (the /Admin folder is admins-only): capacity, what running jobs and
/// deployments reserved there, and live CPU and memory, which the page refreshes every few seconds from
/// <c>?handler=Nodes</c>.
/// </summary>
public sealed class InfrastructureModel(UsageService usage, BatchBackends backends) : PageModel
{
    public IReadOnlyList<NodeResponse> Nodes { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken ct) => Nodes = await usage.NodesAsync(backends, ct);

    public async Task<IActionResult> OnGetNodesAsync(CancellationToken ct) => new JsonResult(await usage.NodesAsync(backends, ct));
}
