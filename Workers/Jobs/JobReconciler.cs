using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;

namespace Platform.Workers.Jobs;

/// <summary>
/// Runs the jobs the scheduler admitted, as the deployment reconciler runs deployments. Level-triggered: it claims rows
/// that need acting on — Starting (admitted and placed: launch), Stopping, Running with a check due or a stop asked, and
/// Queued with a stop asked — under a lease taken with <c>FOR UPDATE SKIP LOCKED</c>, so several workers share the work;
/// every transition is compare-and-set on the observed state read at claim time and on holding the lease.
/// <c>LISTEN jobs</c> wakes it at once, a resync every few seconds catches the rest.
/// Guarantees: at least once, so every step is idempotent. Killed at any instant it loses nothing and duplicates
/// nothing: a job stays in the state it was in until the step completes; the next worker (when the lease runs out, or
/// at once after a clean shutdown, which gives leases back) does the step again; replicas are found by name and adopted,
/// never launched twice (<see cref="IBatchBackend.StartAsync"/>), and ports chosen before a crash are kept.
/// </summary>
public sealed partial class JobReconciler(
    IServiceScopeFactory scopes,
    BatchBackends backends,
    JobReconcilerOptions options,
    TimeProvider clock,
    ILogger<JobReconciler> logger) : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<Guid, Task> _inFlight = new();

    private TimeProvider Clock => clock;
    private JobReconcilerOptions Options => options;
    private ILogger Logger => logger;

    /// <summary>This process's name on the leases it holds.</summary>
    public string InstanceId { get; } = $"jobs:{Environment.ProcessId}:{Guid.NewGuid():N}:{Environment.MachineName}" is var id && id.Length > 100 ? id[..100] : id;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listening = ListenAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ClaimAndStartAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Job reconciliation pass failed");
                }

                try
                {
                    await _wake.WaitAsync(options.ResyncInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await Task.WhenAll(_inFlight.Values);
            await ReleaseLeasesAsync();
            await listening;
        }
    }

    /// <summary>A sliding window: claims while there is room, each claimed job acted on by itself.</summary>
    private async Task ClaimAndStartAsync(CancellationToken ct)
    {
        while (options.MaxInFlight - _inFlight.Count is var room and > 0)
        {
            var claimed = await ClaimAsync(room, [.. _inFlight.Keys], ct);
            foreach (var id in claimed)
            {
                var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _inFlight[id] = ActAsync(id, registered.Task, ct);
                registered.SetResult();
            }

            if (claimed.Count < room)
            {
                return;
            }
        }
    }

    private async Task ActAsync(Guid id, Task registered, CancellationToken ct)
    {
        await registered;
        try
        {
            await ReconcileAsync(id, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Reconciling job {JobId} stopped early; it stays due", id);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the lease is given back and the next worker resumes the job.
        }
        finally
        {
            _inFlight.TryRemove(id, out _);
            Wake();
        }
    }

    private async Task<List<Guid>> ClaimAsync(int limit, Guid[] busy, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var now = clock.GetUtcNow();
        var until = now + options.Lease;
        // Two partial indexes serve the two halves: IX_Jobs_Active (starting, running, stopping) and IX_Jobs_Queued.
        return await db.Database.SqlQuery<Guid>($"""
            UPDATE "Jobs" SET "LeaseOwner" = {InstanceId}, "LeaseUntil" = {until}
            WHERE "Id" IN (
                SELECT "Id" FROM "Jobs"
                WHERE ("LeaseUntil" IS NULL OR "LeaseUntil" < {now})
                  AND NOT ("Id" = ANY({busy}))
                  AND (("Observed" IN ('Starting', 'Running', 'Stopping')
                        AND ("Observed" <> 'Running' OR "Desired" = 'Stopped' OR "NextCheckAt" IS NULL OR "NextCheckAt" <= {now}))
                    OR ("Observed" = 'Queued' AND "Desired" = 'Stopped'))
                ORDER BY "UpdatedAt" LIMIT {limit}
                FOR UPDATE SKIP LOCKED)
            RETURNING "Id" AS "Value"
            """).ToListAsync(ct);
    }

    private async Task ReconcileAsync(Guid id, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        try
        {
            var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(x => x.Id == id && x.LeaseOwner == InstanceId, ct);
            if (job is null)
            {
                return;
            }

            var replicas = await db.JobReplicas.AsNoTracking().Where(r => r.JobId == id).OrderBy(r => r.Role).ThenBy(r => r.Index).ToListAsync(ct);
            var step = new Step(db, job, replicas, scope.ServiceProvider, this);
            try
            {
                if (backends.For(job) is not { } backend)
                {
                    await step.FailAsync($"the backend '{job.Backend}' this job runs on is not available in this build");
                    return;
                }

                if (job.Desired == JobDesired.Stopped)
                {
                    await StopAsync(step, backend, ct);
                }
                else if (job.Observed == JobObserved.Starting)
                {
                    await LaunchAsync(step, backend, ct);
                }
                else if (job.Observed == JobObserved.Running)
                {
                    await CheckAsync(step, backend, ct);
                }
                else if (job.Observed == JobObserved.Stopping)
                {
                    // Stopping with the desire still Running only happens when a stop asked was undone by nothing we know;
                    // finishing the stop is the safe reading.
                    await StopAsync(step, backend, ct);
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && job.Observed == JobObserved.Running && job.Desired == JobDesired.Running)
            {
                // A check that could not look (the engine restarting): the replicas run on; look again after the interval.
                logger.LogWarning(ex, "Checking job {JobId} failed; it is checked again", id);
                var next = clock.GetUtcNow() + options.PollInterval;
                await step.UpdateAsync(s => s.SetProperty(x => x.NextCheckAt, next));
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Recorded, not retried: a job that cannot be launched or stopped ends failed rather than looping.
                logger.LogError(ex, "Reconciling job {JobId} failed", id);
                await StopAllAsync(step, backend: backends.For(job), "stopped: the job failed", CancellationToken.None);
                await step.FailAsync($"internal error: {ex.Message}");
            }
        }
        finally
        {
            await db.Jobs.Where(x => x.Id == id && x.LeaseOwner == InstanceId)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null), CancellationToken.None);
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        string connectionString;
        using (var scope = scopes.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Database.GetConnectionString()!;
        }

        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {JobService.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                Wake();
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                logger.LogWarning(ex, "LISTEN {Channel} lost; the resync covers until it is back", JobService.Channel);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    /// <summary>On a clean shutdown the leases go back at once, so another worker need not wait for them to run out.</summary>
    private async Task ReleaseLeasesAsync()
    {
        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            await db.Jobs.Where(x => x.LeaseOwner == InstanceId)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null));
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ObjectDisposedException)
        {
            logger.LogWarning(ex, "Job leases not released; they run out by themselves");
        }
    }
}
