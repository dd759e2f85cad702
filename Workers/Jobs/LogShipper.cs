using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Workers.Jobs;

/// <summary>
/// Ships every started replica's output to the object store in chunks (<c>logs/jobs/{job}/{replica}/{seq:D8}</c>) and
/// indexes them in <c>JobLogChunks</c>, then <c>NOTIFY job_logs, '&lt;jobId&gt;'</c> for the live relay.
/// Guarantees: exactly once per byte range, no gaps. A replica is claimed for one step with a transaction-scoped advisory
/// lock (so two Workers never write the same chunk), the chunk's object is written first, then its row and the
/// advance of <see cref="JobReplica.LogBytes"/> commit together, compare-and-set on the old value. A crash between the
/// object and the commit leaves an object nobody indexes, overwritten by the next attempt at the same sequence number.
/// A replica is followed until it has ended and everything it wrote is shipped (<see cref="JobLogState.Complete"/>), or
/// its log reached the cap: then one marker chunk says so and nothing more is shipped (the job goes on).
/// </summary>
public sealed class LogShipper(
    IServiceScopeFactory scopes, BatchBackends backends, IObjectStore store, LogShipperOptions options, TimeProvider clock, ILogger<LogShipper> logger)
    : BackgroundService
{
    /// <summary>The advisory-lock class of replica claims (the second key is the hash of the replica's name).</summary>
    private const int LockClass = 0x4C4F4753; // "LOGS"

    /// <summary>Unfinished lines seen waiting, by replica: the offset they start at and since when (one shipper loop touches it).</summary>
    private readonly Dictionary<(Guid, ReplicaRole, int), (long Offset, DateTimeOffset Since)> partial = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ready = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Inside the loop: a store that is down at start delays shipping, it does not stop Workers.
                if (!ready)
                {
                    await store.EnsureReadyAsync(stoppingToken);
                    ready = true;
                }

                await PassAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Log shipping pass failed; trying again");
            }

            try
            {
                await Task.Delay(options.Interval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One look at every replica whose log may still grow; returns the chunks shipped (for tests).</summary>
    public async Task<int> PassAsync(CancellationToken ct)
    {
        List<Candidate> candidates;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            candidates = await (
                from r in db.JobReplicas
                join j in db.Jobs on r.JobId equals j.Id
                where r.LogState != JobLogState.Complete && r.BackendState != null
                orderby r.JobId, r.Role, r.Index
                select new Candidate(r.JobId, r.Role, r.Index, j.Backend)).Take(options.BatchSize).ToListAsync(ct);
        }

        var shipped = 0;
        foreach (var candidate in candidates)
        {
            try
            {
                for (var i = 0; i < options.MaxChunksPerPass; i++)
                {
                    var step = await StepAsync(candidate, ct);
                    shipped += step.Shipped;
                    if (!step.More)
                    {
                        break;
                    }
                }
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // One replica's trouble (its backend unreachable, the store down) must not hold up the others.
                logger.LogWarning(ex, "Log of job {JobId} replica {Role}-{Index} not shipped", candidate.JobId, candidate.Role, candidate.Index);
            }
        }

        return shipped;
    }

    private async Task<StepResult> StepAsync(Candidate c, CancellationToken ct)
    {
        if (backends.For(c.Backend) is not { } backend)
        {
            return StepResult.Nothing;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        await using var transaction = await db.Database.BeginTransactionAsync(ct);
        var lockKey = $"{c.JobId}/{c.Role}/{c.Index}";
        var claimed = await db.Database
            .SqlQuery<bool>($"SELECT pg_try_advisory_xact_lock({LockClass}, hashtext({lockKey})) AS \"Value\"").SingleAsync(ct);
        if (!claimed)
        {
            return StepResult.Nothing;
        }

        // Read again under the claim: another shipper may have moved it on since the candidates were listed.
        var replica = await db.JobReplicas.AsNoTracking().SingleOrDefaultAsync(r => r.JobId == c.JobId && r.Role == c.Role && r.Index == c.Index, ct);
        if (replica is null || replica.LogState == JobLogState.Complete)
        {
            return StepResult.Nothing;
        }

        // Poll before reading: whatever a replica seen ended wrote is already in its log, so an empty read then means done.
        var status = await backend.PollAsync(c.JobId, replica.Label, replica.BackendState, ct);
        var ended = status.Status != WorkloadStatus.Running;
        if (replica.LogState == JobLogState.Truncated)
        {
            return ended ? await CommitAsync(db, replica, null, 0, JobLogState.Complete, more: false, ct) : StepResult.Nothing;
        }

        var room = options.MaxLogBytes - replica.LogBytes;
        if (room <= 0)
        {
            var beyond = await backend.ReadLogAsync(c.JobId, replica.Label, replica.BackendState, replica.LogBytes, 1, ct);
            if (beyond.Length > 0)
            {
                var marker = Encoding.UTF8.GetBytes($"\n[log truncated at {options.MaxLogBytes} bytes: the job goes on]\n");
                return await CommitAsync(db, replica, marker, 0, ended ? JobLogState.Complete : JobLogState.Truncated, more: false, ct);
            }

            return ended ? await CommitAsync(db, replica, null, 0, JobLogState.Complete, more: false, ct) : StepResult.Nothing;
        }

        var want = (int)Math.Min(options.ChunkBytes, room);
        var bytes = await backend.ReadLogAsync(c.JobId, replica.Label, replica.BackendState, replica.LogBytes, want, ct);
        var full = bytes.Length == want;
        if (bytes.Length == 0)
        {
            return ended ? await CommitAsync(db, replica, null, 0, JobLogState.Complete, more: false, ct) : StepResult.Nothing;
        }

        // A replica that ended gives up what is left (a last line without a newline included).
        var length = ended && !full ? bytes.Length : CutAt(c, replica.LogBytes, bytes, full);
        if (length == 0)
        {
            return StepResult.Nothing;
        }

        var chunk = length == bytes.Length ? bytes : bytes[..length];
        var done = ended && !full;
        return await CommitAsync(db, replica, chunk, length, done ? JobLogState.Complete : JobLogState.Shipping, more: full || length < bytes.Length, ct);
    }

    /// <summary>
    /// How much of what is waiting to ship now: up to the last newline; a whole full chunk, a line longer than
    /// <see cref="LogShipperOptions.MaxLineBytes"/> or an unfinished line that waited <see cref="LogShipperOptions.PartialLineDelay"/>
    /// go as they are (cut back to a UTF-8 character boundary); otherwise 0: wait for the line's end.
    /// </summary>
    private int CutAt(Candidate c, long offset, byte[] bytes, bool full)
    {
        var key = (c.JobId, c.Role, c.Index);
        var newline = Array.LastIndexOf(bytes, (byte)'\n');
        if (newline >= 0)
        {
            partial.Remove(key);
            return newline + 1;
        }

        var now = clock.GetUtcNow();
        if (!partial.TryGetValue(key, out var waiting) || waiting.Offset != offset)
        {
            partial[key] = waiting = (offset, now);
        }

        if (full || bytes.Length >= options.MaxLineBytes || now - waiting.Since >= options.PartialLineDelay)
        {
            partial.Remove(key);
            return Utf8Boundary(bytes, bytes.Length);
        }

        return 0;
    }

    /// <summary>The largest length ≤ <paramref name="length"/> that does not split a UTF-8 character (never 0).</summary>
    internal static int Utf8Boundary(byte[] bytes, int length)
    {
        // Back over continuation bytes (10xxxxxx) to the lead byte of the last character, then see whether it is whole.
        var start = length - 1;
        while (start > 0 && length - start < 4 && (bytes[start] & 0xC0) == 0x80)
        {
            start--;
        }

        var lead = bytes[start];
        var size = (lead & 0x80) == 0 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
        return start + size <= length || start == 0 ? length : start;
    }

    /// <summary>
    /// Writes the chunk's object (when there is one), then in the open transaction its row and the advance of LogBytes
    /// (compare-and-set), the new log state and the notification; commits. <paramref name="outputBytes"/> is how many
    /// of the replica's bytes the chunk holds (0 for the truncation marker).
    /// </summary>
    private async Task<StepResult> CommitAsync(
        PlatformDbContext db, JobReplica replica, byte[]? chunk, int outputBytes, JobLogState state, bool more, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (chunk is not null)
        {
            var seq = (await db.JobLogChunks.Where(k => k.JobId == replica.JobId && k.Role == replica.Role && k.Index == replica.Index)
                .MaxAsync(k => (int?)k.Seq, ct) ?? -1) + 1;
            var key = JobLogService.KeyOf(replica.JobId, replica.Label, seq);
            await using (var content = new MemoryStream(chunk, writable: false))
            {
                await store.PutAsync(key, content, chunk.Length, ct);
            }

            db.JobLogChunks.Add(new JobLogChunk
            {
                JobId = replica.JobId,
                Role = replica.Role,
                Index = replica.Index,
                Seq = seq,
                Offset = replica.LogBytes,
                Bytes = outputBytes,
                Lines = chunk.Count(b => b == (byte)'\n') + (chunk.Length > 0 && chunk[^1] != (byte)'\n' ? 1 : 0),
                ObjectKey = key,
                FirstAt = now,
                LastAt = now,
            });
            await db.SaveChangesAsync(ct);
        }

        var advanced = await db.JobReplicas
            .Where(r => r.JobId == replica.JobId && r.Role == replica.Role && r.Index == replica.Index
                && r.LogBytes == replica.LogBytes && r.LogState == replica.LogState)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.LogBytes, replica.LogBytes + outputBytes).SetProperty(r => r.LogState, state), ct);
        if (advanced != 1)
        {
            await db.Database.RollbackTransactionAsync(ct);
            return StepResult.Nothing;
        }

        // Delivered on commit, never for a chunk that was rolled back.
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({JobLogService.Channel}, {replica.JobId.ToString()})", ct);
        await db.Database.CommitTransactionAsync(ct);
        return new StepResult(chunk is null ? 0 : 1, more && state == JobLogState.Shipping);
    }

    private sealed record Candidate(Guid JobId, ReplicaRole Role, int Index, string Backend);

    private sealed record StepResult(int Shipped, bool More)
    {
        public static readonly StepResult Nothing = new(0, false);
    }
}
