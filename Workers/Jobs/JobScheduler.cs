using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Jobs.Scheduling;
using Platform.Core.Persistence;

namespace Platform.Workers.Jobs;

/// <summary>
/// Admits and places queued jobs (docs/jobs-design.md, "Scheduler (as built)"). One leader at a time across Workers
/// replicas: it holds <c>pg_try_advisory_lock</c> on a connection of its own for as long as it leads (a leader that dies
/// or loses its connection frees the lock, and a follower takes over within <see cref="JobSchedulerOptions.Interval"/>).
/// The leader LISTENs <c>jobs</c> on that connection and runs a pass when woken and at least every interval: a bulk
/// snapshot (<see cref="SnapshotReader"/>), the pure decision (<see cref="SchedulingPass.Decide"/>), and the writes in
/// one transaction (<see cref="DecisionWriter"/>). A pass killed midway writes nothing; the next one decides again.
/// </summary>
public sealed class JobScheduler(
    IServiceScopeFactory scopes, BatchBackends backends, JobSchedulerOptions options, TimeProvider clock, ILogger<JobScheduler> logger) : BackgroundService
{
    /// <summary>The advisory lock every Workers replica competes for ('platform:job-scheduler').</summary>
    public const long LockKey = 0x706c_6a6f_6273_6368;

    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>Whether this instance leads now.</summary>
    public bool IsLeader { get; private set; }

    /// <summary>Passes run by this instance (for tests and logs).</summary>
    public long Passes { get; private set; }

    /// <summary>What the last pass wrote.</summary>
    public PassResult? LastPass { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await LeadWhileAbleAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                // The database may be restarting: the lock went with the connection; try again after a while.
                logger.LogWarning(ex, "Job scheduler lost its connection; trying to lead again");
            }
            finally
            {
                IsLeader = false;
            }

            try
            {
                await Task.Delay(options.Interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Takes the lock if free and runs passes while holding it; returns when another instance leads.</summary>
    private async Task LeadWhileAbleAsync(CancellationToken ct)
    {
        string connectionString;
        using (var scope = scopes.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Database.GetConnectionString()!;
        }

        // A connection of its own, outside the pool's reuse: the lock lives exactly as long as it.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 10 };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(ct);
        await using (var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection))
        {
            take.Parameters.AddWithValue("key", LockKey);
            if (!(bool)(await take.ExecuteScalarAsync(ct))!)
            {
                return;
            }
        }

        IsLeader = true;
        logger.LogInformation("Job scheduler leads");
        connection.Notification += (_, _) => Wake();
        await using (var listen = new NpgsqlCommand($"LISTEN {JobService.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync(ct);
        }

        var waiting = connection.WaitAsync(ct);
        while (!ct.IsCancellationRequested)
        {
            var started = clock.GetUtcNow();
            try
            {
                await PassAsync(ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested && ex is not NpgsqlException { IsTransient: true })
            {
                logger.LogError(ex, "Scheduling pass failed; the next one decides again");
            }

            // Notifications arrive on the lock's connection; a closed one ends the lead (the lock is gone with it).
            if (waiting.IsCompleted)
            {
                await waiting;
                waiting = connection.WaitAsync(ct);
            }

            var gap = options.MinimumGap - (clock.GetUtcNow() - started);
            if (gap > TimeSpan.Zero)
            {
                await Task.Delay(gap, clock, ct);
            }

            await Task.WhenAny(_wake.WaitAsync(options.Interval, ct), waiting);
            if (waiting.IsCompleted)
            {
                await waiting;
                waiting = connection.WaitAsync(ct);
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
            // Already woken: one pass serves every notification before it.
        }
    }

    /// <summary>One pass: read, decide, write. Public for the benchmark and tests that drive it directly.</summary>
    public async Task<PassResult> PassAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var input = await SnapshotReader.For(db, backends, clock).ReadAsync(ct);
        var result = new PassResult(0, 0, 0);
        if (input.Snapshot.Queued.Count > 0)
        {
            var decisions = SchedulingPass.Decide(input.Snapshot);
            result = await DecisionWriter.WriteAsync(db, input, decisions, clock.GetUtcNow(), ct);
            if (result.Admitted > 0)
            {
                logger.LogInformation("Admitted {Admitted} job(s); {Waiting} waiting", result.Admitted, result.Waiting);
            }
        }

        Passes++;
        LastPass = result;
        return result;
    }
}
