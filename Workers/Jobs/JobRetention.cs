using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;

namespace Platform.Workers.Jobs;

/// <summary>
/// Frees the nodes of finished jobs: a job's working folder (code copy, outputs, the replicas' on-disk logs) and, on
/// container backends, its ended containers are removed <c>Platform:Jobs:Retention:KeepDays</c> (default 7) after it
/// finished, once every replica's log is in the object store (the logs, events, usage and output model version stay).
/// A folder whose job no longer exists (its account was deleted) goes at once. Runs every
/// <c>Platform:Jobs:Retention:Interval</c> (default 1 h); every Workers replica may run it, removal is idempotent.
/// </summary>
public sealed class JobRetention(IServiceScopeFactory scopes, BatchBackends backends, IConfiguration configuration, TimeProvider clock, ILogger<JobRetention> logger)
    : BackgroundService
{
    private TimeSpan KeepFor => TimeSpan.FromDays(double.TryParse(configuration["Platform:Jobs:Retention:KeepDays"], System.Globalization.CultureInfo.InvariantCulture, out var days) && days >= 0 ? days : 7);

    private TimeSpan Interval => TimeSpan.TryParse(configuration["Platform:Jobs:Retention:Interval"], System.Globalization.CultureInfo.InvariantCulture, out var every) && every > TimeSpan.Zero ? every : TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(TimeSpan.FromMinutes(1), clock, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await SweepAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Removing finished jobs' folders failed; trying again later");
                }

                await Task.Delay(Interval, clock, stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>One pass over every backend: returns the jobs whose leftovers were removed.</summary>
    public async Task<IReadOnlyList<Guid>> SweepAsync(CancellationToken ct)
    {
        var removed = new List<Guid>();
        var before = clock.GetUtcNow() - KeepFor;
        foreach (var name in backends.Names)
        {
            var backend = backends.For(name)!;
            var kept = backend.JobsKept();
            if (kept.Count == 0)
            {
                continue;
            }

            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            var known = await db.Jobs.AsNoTracking().Where(j => kept.Contains(j.Id))
                .Select(j => new
                {
                    j.Id,
                    j.FinishedAt,
                    j.Observed,
                    Shipping = db.JobReplicas.Any(r => r.JobId == j.Id && r.LogState == JobLogState.Shipping),
                })
                .ToDictionaryAsync(j => j.Id, ct);
            foreach (var id in kept)
            {
                // A folder without a job (its account was deleted) goes too, once it is as old as a finished job's would be.
                var gone = !known.TryGetValue(id, out var job);
                if ((gone && backend.LastChangeOf(id) < before)
                    || (!gone && JobService.IsFinished(job!.Observed) && job.FinishedAt < before && !job.Shipping))
                {
                    await backend.CleanupAsync(id, ct);
                    removed.Add(id);
                    logger.LogInformation("Removed the leftovers of job {JobId} on the {Backend} backend ({Why})", id, name,
                        gone ? "the job no longer exists" : $"finished {job!.FinishedAt:u}");
                }
            }
        }

        return removed;
    }
}
