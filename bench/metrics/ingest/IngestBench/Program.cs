// The ingestion benchmark: WRITERS (8) concurrent writers, each posting batches of BATCH (1,000) points (SERIES series
// stepping together) through the real write path (MetricIngestion: one INSERT … SELECT FROM unnest(arrays) ON CONFLICT with the rollups and
// counters, the run's counters, one commit each) for DURATION_S (15) seconds, into the PostgreSQL that PG names (run.sh
// starts one with fsync and synchronous_commit on). Modes: one run per writer (jobs logging side by side) and all
// writers into one run (serialized on the run's row). Peers, same writers, batches and durability: a naive per-row
// INSERT (one statement per point, one transaction per batch), and EF Core AddRange + SaveChanges of the points;
// both write the points only (no rollups, no counters), so they do less than ours.
using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using Platform.Core.Accounts;
using Platform.Core.Metrics;
using Platform.Core.Persistence;

static int Env(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

var connection = Environment.GetEnvironmentVariable("PG") ?? throw new InvalidOperationException("set PG to an Npgsql connection string");
var writers = Env("WRITERS", 8);
var batch = Env("BATCH", 1000);
var seriesPerBatch = Env("SERIES", 4);
var seconds = Env("DURATION_S", 15);
var peerSeconds = Env("PEER_SECONDS", Math.Max(5, seconds / 2));
connection += $";Maximum Pool Size={writers * 2 + 4}";

await DatabaseMigrator.MigrateAsync(connection);
await using (var check = new NpgsqlConnection(connection))
{
    await check.OpenAsync();
    await using var show = new NpgsqlCommand("SELECT current_setting('fsync') || ' ' || current_setting('synchronous_commit')", check);
    Console.WriteLine($"postgres_fsync_synchronous_commit {(string)(await show.ExecuteScalarAsync())!}");
}

var now = DateTimeOffset.UtcNow;
var userId = Guid.CreateVersion7();
var accountId = Guid.CreateVersion7();
await using (var db = DatabaseMigrator.CreateContext(connection))
{
    var user = new PlatformUser { Id = userId, UserName = "ingest@example.test", Email = "ingest@example.test", DisplayName = "Ingest", CreatedAt = now };
    var account = new Account { Id = accountId, Name = "ingest", CreatedAt = now };
    account.Members.Add(new Membership { UserId = userId, Role = AccountRole.Master, JoinedAt = now });
    db.Users.Add(user);
    db.Accounts.Add(account);
    await db.SaveChangesAsync();
}

async Task<Guid> NewRunAsync(string name)
{
    await using var db = DatabaseMigrator.CreateContext(connection);
    var run = new Run { Id = Guid.CreateVersion7(), AccountId = accountId, OwnerUserId = userId, Name = name, State = RunState.Open, CreatedAt = now, UpdatedAt = now };
    db.Runs.Add(run);
    await db.SaveChangesAsync();
    return run.Id;
}

// Writer w's batch b: SERIES series, BATCH / SERIES consecutive steps each; steps continue across batches.
List<PointInput> Batch(int writer, long b, bool sharedRun)
{
    var steps = batch / seriesPerBatch;
    var first = sharedRun ? (b * writers + writer) * steps : b * steps;
    var points = new List<PointInput>(batch);
    var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
    for (var s = 0; s < steps; s++)
    {
        for (var k = 0; k < seriesPerBatch; k++)
        {
            points.Add(new PointInput($"metric/{k}", first + s, Math.Sin((first + s) * 0.001 + k), at));
        }
    }

    return points;
}

async Task<(long Points, double Seconds, double P50, double P99)> RunAsync(string label, int duration, Func<int, long, Task<long>> write)
{
    var stop = Stopwatch.StartNew();
    var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
    var totals = await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
    {
        long done = 0;
        for (long b = 0; stop.Elapsed.TotalSeconds < duration; b++)
        {
            var t = Stopwatch.GetTimestamp();
            done += await write(w, b);
            latencies.Add(Stopwatch.GetElapsedTime(t).TotalMilliseconds);
        }

        return done;
    })));
    var elapsed = stop.Elapsed.TotalSeconds;
    var sorted = latencies.Order().ToArray();
    var result = (totals.Sum(), elapsed, sorted[sorted.Length / 2], sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * 0.99))]);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{label}_points_per_s {result.Item1 / elapsed:F0}   ({result.Item1} points in {elapsed:F1} s, {sorted.Length} batches, batch p50 {result.Item3:F1} ms p99 {result.Item4:F1} ms)"));
    return result;
}

var options = Options.Create(new MetricsOptions { MaxPointsPerRun = long.MaxValue });

async Task<(long, double, double, double)> OursAsync(string label, bool sharedRun)
{
    var runs = sharedRun
        ? Enumerable.Repeat(await NewRunAsync(label), writers).ToArray()
        : await Task.WhenAll(Enumerable.Range(0, writers).Select(w => NewRunAsync($"{label}-{w}")));
    return await RunAsync(label, seconds, async (w, b) =>
    {
        await using var db = DatabaseMigrator.CreateContext(connection);
        var ingestion = new MetricIngestion(db, new RunService(db, TimeProvider.System), options, [], TimeProvider.System,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<MetricIngestion>.Instance);
        var result = await ingestion.IngestAsync(userId, null, runs[w], new IngestRequest(Batch(w, b, sharedRun)));
        if (result.Error is { } error)
        {
            throw new InvalidOperationException(error.Message);
        }

        return result.Value!.Accepted;
    });
}

async Task<long[]> PeerSeriesAsync(string label)
{
    var ids = new long[writers * seriesPerBatch];
    for (var w = 0; w < writers; w++)
    {
        var run = await NewRunAsync($"{label}-{w}");
        await using var db = DatabaseMigrator.CreateContext(connection);
        for (var k = 0; k < seriesPerBatch; k++)
        {
            var series = new MetricSeries { RunId = run, Name = $"metric/{k}" };
            db.MetricSeries.Add(series);
            await db.SaveChangesAsync();
            ids[w * seriesPerBatch + k] = series.Id;
        }
    }

    return ids;
}

var ours = await OursAsync("platform_runs_per_writer", sharedRun: false);
var shared = await OursAsync("platform_one_run", sharedRun: true);

var rowIds = await PeerSeriesAsync("peer_rows");
var rows = await RunAsync("peer_per_row_insert", peerSeconds, async (w, b) =>
{
    await using var conn = new NpgsqlConnection(connection);
    await conn.OpenAsync();
    await using var tx = await conn.BeginTransactionAsync();
    var points = Batch(w, b, false);
    foreach (var p in points)
    {
        await using var insert = new NpgsqlCommand(
            """INSERT INTO "MetricPoints" ("SeriesId", "Step", "At", "Value") VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""", conn, tx);
        insert.Parameters.Add(new NpgsqlParameter { Value = rowIds[w * seriesPerBatch + int.Parse(p.Name!.AsSpan(7), CultureInfo.InvariantCulture)] });
        insert.Parameters.Add(new NpgsqlParameter { Value = p.Step });
        insert.Parameters.Add(new NpgsqlParameter { Value = DateTime.UnixEpoch.AddSeconds(p.At!.Value) });
        insert.Parameters.Add(new NpgsqlParameter { Value = p.Value });
        await insert.ExecuteNonQueryAsync();
    }

    await tx.CommitAsync();
    return points.Count;
});

var efIds = await PeerSeriesAsync("peer_ef");
var ef = await RunAsync("peer_ef_addrange", peerSeconds, async (w, b) =>
{
    await using var db = DatabaseMigrator.CreateContext(connection);
    var points = Batch(w, b, false);
    db.MetricPoints.AddRange(points.Select(p => new MetricPoint
    {
        SeriesId = efIds[w * seriesPerBatch + int.Parse(p.Name!.AsSpan(7), CultureInfo.InvariantCulture)],
        Step = p.Step,
        At = DateTimeOffset.FromUnixTimeMilliseconds((long)(p.At!.Value * 1000)),
        Value = p.Value,
    }));
    await db.SaveChangesAsync();
    return points.Count;
});

double Rate((long Points, double Seconds, double, double) r) => r.Points / r.Seconds;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio_platform_over_per_row_insert {Rate(ours) / Rate(rows):F1}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ratio_platform_over_ef_addrange {Rate(ours) / Rate(ef):F1}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_one_run_over_runs_per_writer {Rate(shared) / Rate(ours):F2}"));
