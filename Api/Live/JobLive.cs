using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;
using Platform.Core.Persistence;

namespace Platform.Api.Live;

/// <summary>A job as the pages redraw it live ("JobUpdated"): its state and why, the queue's word on it, times and progress.</summary>
public sealed record JobUpdate(
    Guid Id,
    string State,
    string Desired,
    string? Reason,
    string? QueueReason,
    int? QueuePosition,
    DateTimeOffset? EstimatedStartAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? Progress,
    string? ProgressMessage);

/// <summary>New lines of one replica's log ("JobLog"): one chunk, whose <see cref="Seq"/> lets a client see a gap and fill it with the REST API.</summary>
public sealed record JobLogMessage(Guid JobId, string Replica, int Seq, string Text);

/// <summary>
/// The jobs side of the live relay. <c>NOTIFY jobs, '&lt;id&gt;'</c> becomes "JobUpdated" (read fresh) to the owner's
/// <c>user:{id}</c> group and to the job's <c>job:{id}</c> group; <c>NOTIFY job_logs, '&lt;id&gt;'</c> becomes one
/// "JobLog" per new chunk to <c>job:{id}</c>. Every subscriber is asked again whether they may still see the job before
/// anything is sent to the job's group, and one who may not is taken out of it. The cursor per job and replica (the last
/// chunk sent) is this process's own and starts at the chunks there were when the first connection subscribed; delivery is
/// at most once, and clients fill gaps (a seq that skips) from the REST API.
/// </summary>
public sealed class JobLive(IHubContext<LiveHub> hub, ILogger<JobLive> logger)
{
    /// <summary>The most chunks sent per job and notification; a client further behind catches up through the REST API.</summary>
    public const int MaxChunksPerSend = 32;

    private readonly ConcurrentDictionary<Guid, Dictionary<string, int>> cursors = new();

    public LiveSubscriptions Subscriptions { get; } = new();

    public static string JobGroup(Guid jobId) => $"job:{jobId}";

    public static async Task<(JobUpdate Update, Guid OwnerUserId)?> LoadAsync(PlatformDbContext db, Guid jobId, CancellationToken ct)
    {
        var j = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(x => x.Id == jobId, ct);
        return j is null ? null : (new JobUpdate(j.Id, JobService.Wire(j.Observed), JobService.Wire(j.Desired), j.Reason, j.QueueReason,
            j.QueuePosition, j.EstimatedStartAt, j.StartedAt, j.FinishedAt, j.Progress, j.ProgressMessage), j.OwnerUserId);
    }

    /// <summary>Starts the job's log cursor at its current chunks, once per job while anyone here follows it.</summary>
    public async Task TrackAsync(JobLogService logs, Guid jobId, CancellationToken ct)
    {
        if (!cursors.ContainsKey(jobId))
        {
            var last = await logs.LastSeqsAsync(jobId, ct);
            cursors.TryAdd(jobId, last);
        }
    }

    public void Forget(string connectionId)
    {
        Subscriptions.Forget(connectionId);
        DropIdle();
    }

    public void Remove(Guid jobId, string connectionId)
    {
        Subscriptions.Remove(jobId, connectionId);
        DropIdle();
    }

    public async Task SendJobAsync(IServiceProvider services, Guid jobId, CancellationToken ct)
    {
        var db = services.GetRequiredService<PlatformDbContext>();
        if (await LoadAsync(db, jobId, ct) is not { } loaded)
        {
            return;
        }

        var (update, ownerUserId) = loaded;
        var logs = services.GetRequiredService<JobLogService>();
        if (await logs.MaySeeAsync(ownerUserId, jobId, ct))
        {
            await hub.Clients.Group(LiveHub.UserGroup(ownerUserId)).SendAsync("JobUpdated", update, ct);
        }

        if (await CheckSubscribersAsync(logs, jobId, ct))
        {
            await hub.Clients.Group(JobGroup(jobId)).SendAsync("JobUpdated", update, ct);
        }
    }

    public async Task SendLogsAsync(IServiceProvider services, Guid jobId, CancellationToken ct)
    {
        var logs = services.GetRequiredService<JobLogService>();
        if (!cursors.TryGetValue(jobId, out var cursor))
        {
            // Nobody here follows it; or a subscription raced the dropping of an idle cursor: start it again, and the
            // client fills what this message would have carried when it sees the next seq skip.
            if (Subscriptions.Of(jobId).Count > 0)
            {
                await TrackAsync(logs, jobId, ct);
            }

            return;
        }

        if (!await CheckSubscribersAsync(logs, jobId, ct))
        {
            return;
        }

        Dictionary<string, int> from;
        lock (cursor)
        {
            from = new Dictionary<string, int>(cursor);
        }

        var chunks = await logs.ChunksAfterAsync(jobId, from, MaxChunksPerSend, ct);
        foreach (var (replica, chunk) in chunks)
        {
            await hub.Clients.Group(JobGroup(jobId)).SendAsync("JobLog", new JobLogMessage(jobId, replica, chunk.Seq, chunk.Text), ct);
            lock (cursor)
            {
                cursor[replica] = Math.Max(cursor.GetValueOrDefault(replica, -1), chunk.Seq);
            }
        }

        if (chunks.Count >= MaxChunksPerSend)
        {
            logger.LogDebug("Job {JobId}: more than {Max} new log chunks at once; clients catch up through the API", jobId, MaxChunksPerSend);
            // Skip ahead: what was not sent is fetched by the clients (they see the gap in seq).
            foreach (var (replica, seq) in await logs.LastSeqsAsync(jobId, ct))
            {
                lock (cursor)
                {
                    cursor[replica] = Math.Max(cursor.GetValueOrDefault(replica, -1), seq);
                }
            }
        }
    }

    /// <summary>Takes out of the job's group whoever may no longer see it; true when anyone is left.</summary>
    private async Task<bool> CheckSubscribersAsync(JobLogService logs, Guid jobId, CancellationToken ct)
    {
        var subscribers = Subscriptions.Of(jobId);
        var allowed = new Dictionary<Guid, bool>();
        var left = 0;
        foreach (var (connectionId, userId) in subscribers)
        {
            if (!allowed.TryGetValue(userId, out var may))
            {
                allowed[userId] = may = await logs.MaySeeAsync(userId, jobId, ct);
            }

            if (may)
            {
                left++;
                continue;
            }

            Remove(jobId, connectionId);
            await hub.Groups.RemoveFromGroupAsync(connectionId, JobGroup(jobId), ct);
        }

        return left > 0;
    }

    private void DropIdle()
    {
        foreach (var jobId in cursors.Keys)
        {
            if (Subscriptions.Of(jobId).Count == 0)
            {
                cursors.TryRemove(jobId, out _);
            }
        }
    }
}
