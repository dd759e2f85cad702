using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Catalog;
using Platform.Core.Deployments;
using Platform.Core.Persistence;
using Platform.Web.FrontDoor;
using Platform.Web.Identity;

namespace Platform.Web.Ide;

/// <summary>
/// <c>/ide/{id}/…</c> (HTTP and WebSockets) to the IDE a deployment runs, for its owner and the users it is shared with
/// (checked on every request, so an unshare ends access at once), and only while it runs;
/// anything else is 404, so the route does not even confirm a deployment exists. The IDE keeps its own password on
/// top. Jupyter is started with <c>/ide/{id}/</c> as its base URL, so the path reaches it unchanged; code-server has
/// no such option and serves at its root with relative links, so for VS Code the prefix is stripped.
/// </summary>
public static class IdeProxy
{
    public static IServiceCollection AddIdeProxy(this IServiceCollection services) =>
        services.AddSingleton<IdeActivity>().AddHostedService(sp => sp.GetRequiredService<IdeActivity>()).AddFrontDoorRoute(_ => new FrontDoorRoute("ide", "/ide/{id}", ResolveAsync)
        {
            // Kernels and terminals keep long requests open; WebSockets never time out anyway.
            Timeout = Timeout.InfiniteTimeSpan,
            Metadata = [new AuthorizeAttribute()],
        });

    private static async ValueTask<Uri?> ResolveAsync(HttpContext http)
    {
        var user = http.RequestServices.GetRequiredService<CurrentUser>();
        if (!Guid.TryParse(http.GetRouteValue("id") as string, out var id) || !user.IsSignedIn)
        {
            return null;
        }

        var userId = user.Id;

        var db = http.RequestServices.GetRequiredService<PlatformDbContext>();
        var target = await db.Deployments.AsNoTracking()
            .Where(d => d.Id == id && d.Observed == ObservedState.Running && d.Desired == DesiredState.Running
                && (d.OwnerUserId == userId || db.DeploymentShares.Any(s => s.DeploymentId == d.Id && s.UserId == userId)))
            .Select(d => new { d.Address, d.Service })
            .FirstOrDefaultAsync(http.RequestAborted);
        if (!Uri.TryCreate(target?.Address, UriKind.Absolute, out var uri))
        {
            return null;
        }

        if (target!.Service == ModuleService.VsCode)
        {
            FrontDoorRoute.StripPrefixFor(http);
        }

        // Use through the proxy keeps the IDE from being culled as idle (in memory here, written in batches).
        http.RequestServices.GetRequiredService<IdeActivity>().Touch(id);
        return uri;
    }
}
