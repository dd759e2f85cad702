using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Api.Authentication;
using Platform.Core.AccessKeys;
using Platform.Core.Deployments;
using Platform.Core.Jobs;
using Platform.Core.Persistence;

namespace Platform.Api.Live;

/// <summary>
/// Relays Postgres notifications to the hub's groups: <c>NOTIFY deployments, '&lt;id&gt;'</c> (sent by
/// <see cref="DeploymentService"/> on every change of desire and by the Workers' reconciler on every transition and
/// event) becomes a <c>deployment</c> message with the deployment's current <see cref="DeploymentUpdate"/>, and
/// <c>NOTIFY notifications, '&lt;userId&gt;'</c> a <c>notification</c> message to that user. Bursts are coalesced:
/// ids notified within <see cref="LiveRelayOptions.Coalesce"/> are loaded and sent once, so a start that writes ten
/// events costs one read per deployment, not ten. Every Api process runs its own relay for its own connections, so
/// several Api processes need no SignalR backplane. Delivery is at most once: a client that reconnects (or is told
/// <c>resync</c> after this relay lost its LISTEN connection, when notifications may have been missed) fetches the
/// current state from the REST API. Jobs (<c>NOTIFY jobs</c> and <c>NOTIFY job_logs</c>) are coalesced the same way
/// and sent by <see cref="JobLive"/>.
/// </summary>
public sealed class LiveRelay(
    IServiceScopeFactory scopes, IHubContext<LiveHub> hub, LiveSubscriptions subscriptions, JobLive jobLive, LiveRelayOptions options,
    AccessKeyCache accessKeys, ILogger<LiveRelay> logger)
    : BackgroundService
{
    public const string NotificationsChannel = "notifications";

    private readonly Lock gate = new();
    private readonly SemaphoreSlim signal = new(0, 1);
    private HashSet<Guid> deployments = [];
    private HashSet<Guid> users = [];
    private HashSet<Guid> jobs = [];
    private HashSet<Guid> jobLogs = [];
    private bool resync;

    /// <summary>Completes once LISTEN is in effect on every channel (again after every reconnect); for tests and health.</summary>
    public Task Listening => listening.Task;

    private TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listen = ListenAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await signal.WaitAsync(stoppingToken);
                await Task.Delay(options.Coalesce, stoppingToken);
                HashSet<Guid> dueDeployments, dueUsers, dueJobs, dueJobLogs;
                bool dueResync;
                lock (gate)
                {
                    (dueDeployments, deployments) = (deployments, []);
                    (dueUsers, users) = (users, []);
                    (dueJobs, jobs) = (jobs, []);
                    (dueJobLogs, jobLogs) = (jobLogs, []);
                    (dueResync, resync) = (resync, false);
                }

                try
                {
                    await SendAsync(dueDeployments, dueUsers, dueResync, stoppingToken);
                    await SendJobsAsync(dueJobs, dueJobLogs, stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // A BackgroundService that throws stops the host: live updates are not worth the Api.
                    logger.LogWarning(ex, "Live updates not sent");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            await listen;
        }
    }

    private async Task SendAsync(HashSet<Guid> dueDeployments, HashSet<Guid> dueUsers, bool dueResync, CancellationToken ct)
    {
        if (dueResync)
        {
            await hub.Clients.All.SendAsync("resync", ct);
        }

        foreach (var userId in dueUsers)
        {
            await hub.Clients.Group(LiveHub.UserGroup(userId)).SendAsync("notification", new { userId }, ct);
        }

        foreach (var deploymentId in dueDeployments)
        {
            try
            {
                await SendDeploymentAsync(deploymentId, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // One deployment's failure (the database restarting, say) must not stop the others' updates.
                logger.LogWarning(ex, "Live update of deployment {DeploymentId} not sent", deploymentId);
            }
        }
    }

    private async Task SendJobsAsync(HashSet<Guid> dueJobs, HashSet<Guid> dueJobLogs, CancellationToken ct)
    {
        foreach (var (jobId, logs) in dueJobs.Select(id => (id, false)).Concat(dueJobLogs.Select(id => (id, true))))
        {
            try
            {
                using var scope = scopes.CreateScope();
                await (logs ? jobLive.SendLogsAsync(scope.ServiceProvider, jobId, ct) : jobLive.SendJobAsync(scope.ServiceProvider, jobId, ct));
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Live update of job {JobId} not sent", jobId);
            }
        }
    }

    private async Task SendDeploymentAsync(Guid deploymentId, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var update = await scope.ServiceProvider.GetRequiredService<DeploymentUpdates>().LoadAsync(deploymentId, ct);
        if (update is null)
        {
            return;
        }

        // Everyone is asked again whether they may still see it; a deleted deployment is told once to those who could.
        var service = scope.ServiceProvider.GetRequiredService<DeploymentService>();
        var deleted = update.Observed == DeploymentService.Wire(ObservedState.Deleted);
        var allowed = new Dictionary<Guid, bool>();
        async Task<bool> MaySeeAsync(Guid userId)
        {
            if (!allowed.TryGetValue(userId, out var may))
            {
                allowed[userId] = may = deleted || (await service.GetAsync(userId, deploymentId, ct)).IsSuccess;
            }

            return may;
        }

        // The owner's and the sharees' list pages listen to their user groups (masters follow members' deployments on
        // their details pages, through the deployment group).
        var sharees = await scope.ServiceProvider.GetRequiredService<PlatformDbContext>().DeploymentShares.AsNoTracking()
            .Where(s => s.DeploymentId == deploymentId).Select(s => s.UserId).ToListAsync(ct);
        foreach (var userId in sharees.Prepend(update.OwnerUserId).Distinct())
        {
            if (await MaySeeAsync(userId))
            {
                await hub.Clients.Group(LiveHub.UserGroup(userId)).SendAsync("deployment", update, ct);
            }
        }

        var group = LiveHub.DeploymentGroup(deploymentId);
        var subscribers = subscriptions.Of(deploymentId);
        foreach (var (connectionId, userId) in subscribers)
        {
            if (!await MaySeeAsync(userId))
            {
                subscriptions.Remove(deploymentId, connectionId);
                await hub.Groups.RemoveFromGroupAsync(connectionId, group, ct);
            }
        }

        if (subscribers.Count > 0)
        {
            await hub.Clients.Group(group).SendAsync("deployment", update, ct);
        }
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e)
    {
        if (!Guid.TryParse(e.Payload, out var id))
        {
            return;
        }

        if (e.Channel == AccessKeyService.Channel)
        {
            accessKeys.Evict(id);
            return;
        }

        lock (gate)
        {
            (e.Channel switch
            {
                NotificationsChannel => users,
                JobService.Channel => jobs,
                JobLogService.Channel => jobLogs,
                _ => deployments,
            }).Add(id);
        }

        Wake();
    }

    private void Wake()
    {
        try
        {
            signal.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken; this id goes out with the others.
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        string connectionString;
        using (var scope = scopes.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Database.GetConnectionString()!;
        }

        var lost = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand(
                    $"LISTEN {DeploymentService.Channel}; LISTEN {NotificationsChannel}; LISTEN {JobService.Channel}; LISTEN {JobLogService.Channel}; " +
                    $"LISTEN {AccessKeyService.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                accessKeys.Resume();

                if (lost)
                {
                    // Whatever was notified while nobody listened is lost: clients fetch the current state instead.
                    lock (gate)
                    {
                        resync = true;
                    }

                    Wake();
                    logger.LogInformation("LISTEN {Channels} is back", $"{DeploymentService.Channel}, {NotificationsChannel}");
                }

                listening.TrySetResult();
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "LISTEN for live updates lost; trying again in {Delay}", options.ReconnectDelay);
                accessKeys.Suspend();
                lost = true;
                if (listening.Task.IsCompleted)
                {
                    listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                try
                {
                    await Task.Delay(options.ReconnectDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}

/// <summary>Timings of <see cref="LiveRelay"/> (<c>Platform:Live</c>).</summary>
public sealed class LiveRelayOptions
{
    /// <summary>How long the relay gathers notifications before sending: one update per deployment per window.</summary>
    public TimeSpan Coalesce { get; set; } = TimeSpan.FromMilliseconds(75);

    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(2);
}
