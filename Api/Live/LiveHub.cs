using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Platform.Api.Authentication;
using Platform.Core.Deployments;
using Platform.Core.Jobs;
using Platform.Core.Metrics;
using Platform.Core.Persistence;

namespace Platform.Api.Live;

/// <summary>
/// Live updates for the pages and the SDK (<c>/hubs/live</c>). Every connection joins <c>user:{id}</c>, where the
/// relay sends updates of the user's own deployments and their notifications. A page showing a deployment subscribes
/// to <c>deployment:{id}</c>, which is joined only when <see cref="DeploymentService"/> lets the caller see it: a
/// deployment the caller may not see answers "not found", exactly as the REST API does, and nothing is joined.
/// Server-to-client messages: <c>deployment</c> (<see cref="DeploymentUpdate"/>) and <c>notification</c>; for jobs,
/// <c>JobUpdated</c> (<see cref="JobUpdate"/>, to the owner's user group and the job's group) and <c>JobLog</c>
/// (<see cref="JobLogMessage"/>, to the job's group), joined through <see cref="SubscribeJob"/> by the owner and the
/// masters of the job's account only. Training boards subscribe to <c>run:{id}</c> through <see cref="SubscribeRun"/>
/// ("Points" and "RunUpdated", sent by <see cref="MetricsLive"/>), by those <see cref="RunAccess"/> lets see the run.
/// The runs list watches through <see cref="SubscribeRuns"/> ("RunsChanged", sent by <see cref="RunListLive"/>).
/// </summary>
[Authorize]
public sealed class LiveHub(
    DeploymentService deployments, LiveSubscriptions subscriptions, DeploymentUpdates updates, JobLive jobLive, JobLogService jobLogs, PlatformDbContext db,
    MetricsLive metricsLive, RunListLive runList)
    : Hub
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
        jobLive.Forget(Context.ConnectionId);
        metricsLive.Forget(Context.ConnectionId);
        runList.Forget(Context.ConnectionId);
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

    /// <summary>
    /// Joins the job's group (its updates and its log lines as they are shipped) and answers its current state. A job the
    /// caller may not see answers "not found", as the REST API does, and nothing is joined.
    /// </summary>
    public async Task<JobUpdate> SubscribeJob(Guid jobId)
    {
        var userId = Context.User!.UserId();
        if (!await jobLogs.MaySeeAsync(userId, jobId, Context.ConnectionAborted))
        {
            throw new HubException("Job not found.");
        }

        // Subscribed first, so the cursor started next is never dropped as idle in between.
        jobLive.Subscriptions.Add(jobId, Context.ConnectionId, userId);
        await jobLive.TrackAsync(jobLogs, jobId, Context.ConnectionAborted);
        await Groups.AddToGroupAsync(Context.ConnectionId, JobLive.JobGroup(jobId), Context.ConnectionAborted);
        return (await JobLive.LoadAsync(db, jobId, Context.ConnectionAborted))?.Update ?? throw new HubException("Job not found.");
    }

    public async Task UnsubscribeJob(Guid jobId)
    {
        jobLive.Remove(jobId, Context.ConnectionId);
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, JobLive.JobGroup(jobId), Context.ConnectionAborted);
    }

    /// <summary>
    /// Joins the run's group, then answers the points newer than <paramref name="lastSteps"/> (per series; a series not
    /// named there: all of it) from the table, at most <see cref="MetricsLive.CatchUpLimit"/>. Joined before reading, so a
    /// point committed meanwhile comes either way (or both: clients deduplicate by step), never neither. A run the caller
    /// may not see answers "not found", as the REST API does, and nothing is joined.
    /// </summary>
    public async Task<RunCatchUp> SubscribeRun(Guid runId, Dictionary<string, long>? lastSteps)
    {
        var userId = Context.User!.UserId();
        if (!await RunAccess.MaySeeAsync(db, userId, runId, Context.ConnectionAborted))
        {
            throw new HubException("Run not found.");
        }

        metricsLive.Subscriptions.Add(runId, Context.ConnectionId, userId);
        await Groups.AddToGroupAsync(Context.ConnectionId, MetricsLive.RunGroup(runId), Context.ConnectionAborted);
        return await MetricsLive.CatchUpAsync(db, runId, lastSteps, Context.ConnectionAborted);
    }

    public async Task UnsubscribeRun(Guid runId)
    {
        metricsLive.Subscriptions.Remove(runId, Context.ConnectionId);
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, MetricsLive.RunGroup(runId), Context.ConnectionAborted);
    }

    /// <summary>
    /// The runs list of this page: "RunsChanged" names, at most twice a second, the runs the caller may see that were
    /// created, changed, finished or gained points (their own; with scope "account" also those of accounts they are a
    /// master of), and those of <paramref name="shown"/> (the runs the page lists) that were deleted. Called again
    /// after each redraw with what the page shows now; the last call wins.
    /// </summary>
    public Task SubscribeRuns(string? scope, Guid[]? shown) =>
        runList.WatchAsync(db, Context.ConnectionId, Context.User!.UserId(), scope == "account", shown, Context.ConnectionAborted);

    public void UnsubscribeRuns() => runList.Forget(Context.ConnectionId);
}
