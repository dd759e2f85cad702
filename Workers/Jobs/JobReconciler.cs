using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;

using Platform.Workers.Reconciliation;

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
    ILogger<JobReconciler> logger) : LeasedReconciler
{
    private TimeProvider Clock => clock;
    private JobReconcilerOptions Options => options;

    protected override IServiceScopeFactory Scopes => scopes;

    protected override ILogger Logger => logger;

    protected override string Channel => JobService.Channel;

    protected override string Noun => "job";

    protected override int MaxInFlight => options.MaxInFlight;

    protected override TimeSpan ResyncInterval => options.ResyncInterval;

    /// <summary>This process's name on the leases it holds.</summary>
    public string InstanceId { get; } = $"jobs:{Environment.ProcessId}:{Guid.NewGuid():N}:{Environment.MachineName}" is var id && id.Length > 100 ? id[..100] : id;

    protected override async Task<List<Guid>> ClaimAsync(int limit, Guid[] busy, CancellationToken ct)
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

    protected override async Task ReconcileAsync(Guid id, CancellationToken ct)
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

    protected override Task ReleaseLeasesAsync(PlatformDbContext db) =>
        db.Jobs.Where(x => x.LeaseOwner == InstanceId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null));
}
