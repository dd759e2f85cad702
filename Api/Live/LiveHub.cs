using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Platform.Api.Authentication;
using Platform.Core.Deployments;

namespace Platform.Api.Live;

/// <summary>
/// Live updates for the pages and the SDK (<c>/hubs/live</c>). Every connection joins <c>user:{id}</c>, where the
/// relay sends updates of the user's own deployments and their notifications. A page showing a deployment subscribes
/// to <c>deployment:{id}</c>, which is joined only when <see cref="DeploymentService"/> lets the caller see it: a
/// deployment the caller may not see answers "not found", exactly as the REST API does, and nothing is joined.
/// Server-to-client messages: <c>deployment</c> (<see cref="DeploymentUpdate"/>) and <c>notification</c>.
/// </summary>
[Authorize]
public sealed class LiveHub(DeploymentService deployments, LiveSubscriptions subscriptions, DeploymentUpdates updates) : Hub
{
    public const string Path = "/hubs/live";

    public static string UserGroup(Guid userId) => $"user:{userId}";

    public static string DeploymentGroup(Guid deploymentId) => $"deployment:{deploymentId}";

    public override async Task OnConnectedAsync()
    {
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(Context.User!.UserId()), Context.ConnectionAborted);
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        subscriptions.Forget(Context.ConnectionId);
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Joins the deployment's group and answers its current state, so a client that (re)subscribes is up to date.</summary>
    public async Task<DeploymentUpdate> SubscribeDeployment(Guid deploymentId)
    {
        var userId = Context.User!.UserId();
        var visible = await deployments.GetAsync(userId, deploymentId, Context.ConnectionAborted);
        if (!visible.IsSuccess)
        {
            throw new HubException("Deployment not found.");
        }

        subscriptions.Add(deploymentId, Context.ConnectionId, userId);
        await Groups.AddToGroupAsync(Context.ConnectionId, DeploymentGroup(deploymentId), Context.ConnectionAborted);
        return await updates.LoadAsync(deploymentId, Context.ConnectionAborted)
            ?? throw new HubException("Deployment not found.");
    }

    public async Task UnsubscribeDeployment(Guid deploymentId)
    {
        subscriptions.Remove(deploymentId, Context.ConnectionId);
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, DeploymentGroup(deploymentId), Context.ConnectionAborted);
    }
}
