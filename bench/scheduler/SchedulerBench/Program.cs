// The scheduler benchmark: JOBS queued jobs (default 10,000) across ACCOUNTS accounts (50) in a real PostgreSQL (the
// tests' throwaway cluster), then one scheduling pass of the real code, timed: the bulk read (SnapshotReader), the
// decision (SchedulingPass.Decide), and the writes in one transaction (DecisionWriter). ROUNDS passes (3), each from
// the same seeded queue; prints the median and every round. NODE_CPUS (2000) sizes the one node, so some jobs are
// admitted and placed and the rest wait with a reason, a position and an estimate: every job gets a decision.
using System.Diagnostics;
using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Accounts;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Jobs.Scheduling;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

static int Env(string name, int fallback) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : fallback;

var jobs = Env("JOBS", 10_000);
var accountCount = Env("ACCOUNTS", 50);
var rounds = Env("ROUNDS", 3);
var nodeCpus = Env("NODE_CPUS", 2000);
var random = new Random(42);

var server = await PostgresServer.GetAsync();
var database = await server.CreateDatabaseAsync("schedbench");
await DatabaseMigrator.MigrateAsync(database);
Console.Error.WriteLine($"seeding {jobs} queued jobs across {accountCount} accounts…");

var now = DateTimeOffset.UtcNow;
var members = new List<(Guid User, Guid Account)>();
await using (var db = DatabaseMigrator.CreateContext(database))
{
    for (var a = 0; a < accountCount; a++)
    {
        var user = new PlatformUser { Id = Guid.CreateVersion7(), UserName = $"bench{a}@example.test", Email = $"bench{a}@example.test", DisplayName = $"Bench {a}", CreatedAt = now };
        var account = new Account { Id = Guid.CreateVersion7(), Name = $"account {a}", CreatedAt = now };
        account.Members.Add(new Membership { UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
        db.Users.Add(user);
        db.Accounts.Add(account);
        members.Add((user.Id, account.Id));
        // Fair share has history to weigh: each account used some CPU-hours over the last days; a fifth have a weight.
        db.UsageRecords.Add(new UsageRecord
        {
            WorkloadKind = WorkloadKind.Job, WorkloadId = Guid.NewGuid(), Hour = new DateTimeOffset(now.UtcDateTime.Date, TimeSpan.Zero).AddDays(-2),
            AccountId = account.Id, UserId = user.Id, CpuSeconds = random.Next(0, 500) * 3600, GpuSeconds = 0,
        });
        if (a % 5 == 0)
        {
            db.JobQuotas.Add(new JobQuota { AccountId = account.Id, Weight = 2, MaxRunningJobs = 100, UpdatedAt = now });
        }
    }

    await db.SaveChangesAsync();
}

await using (var db = DatabaseMigrator.CreateContext(database))
{
    db.ChangeTracker.AutoDetectChangesEnabled = false;
    for (var i = 0; i < jobs; i++)
    {
        var (user, account) = members[i % accountCount];
        var job = new Job
        {
            Id = Guid.CreateVersion7(), AccountId = account, OwnerUserId = user, Name = $"job {i % 97}", Command = ["true"], Priority = random.Next(0, 4),
            TimeLimitMinutes = random.Next(10) < 7 ? random.Next(10, 240) : null, Desired = JobDesired.Running, Observed = JobObserved.Queued,
            QueueReason = "waiting for the scheduler", Generation = 1, Backend = "process", SubmittedAt = now.AddSeconds(-jobs + i), UpdatedAt = now,
        };
        db.Jobs.Add(job);
        // Four in five are one trainer; the rest a gang of two trainers and a parameter server.
        var trainers = i % 5 == 4 ? 2 : 1;
        for (var t = 0; t < trainers; t++)
        {
            db.JobReplicas.Add(new JobReplica { JobId = job.Id, Role = ReplicaRole.Trainer, Index = t, Cpus = 1 + random.Next(0, 4), MemoryMiB = 512 });
        }

        if (trainers == 2)
        {
            db.JobReplicas.Add(new JobReplica { JobId = job.Id, Role = ReplicaRole.ParameterServer, Index = 0, Cpus = 1, MemoryMiB = 256 });
        }
    }

    db.ChangeTracker.DetectChanges();
    await db.SaveChangesAsync();
}

var backends = new BatchBackends([new ProcessBatchBackend(new ProcessBatchOptions(Path.GetTempPath(), "bench-node", nodeCpus, 0, 64L * 1024 * 1024))], "process");
var results = new List<(double Read, double Decide, double Write, PassResult Result)>();
for (var round = 1; round <= rounds; round++)
{
    await ResetAsync(database);
    await using var db = DatabaseMigrator.CreateContext(database);
    var reader = new SnapshotReader(db, backends, new JobQuotaOptions(), TimeProvider.System);
    var clock = Stopwatch.StartNew();
    var input = await reader.ReadAsync(CancellationToken.None);
    var read = clock.Elapsed.TotalMilliseconds;
    var decisions = SchedulingPass.Decide(input.Snapshot);
    var decide = clock.Elapsed.TotalMilliseconds - read;
    var result = await DecisionWriter.WriteAsync(db, input, decisions, DateTimeOffset.UtcNow, CancellationToken.None);
    var write = clock.Elapsed.TotalMilliseconds - read - decide;
    results.Add((read, decide, write, result));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"round {round}: {decisions.Count} decisions ({result.Admitted} admitted and placed, {result.Waiting} waiting) — read {read:0} ms, decide {decide:0} ms, write {write:0} ms, total {read + decide + write:0} ms"));
}

var median = results.OrderBy(r => r.Read + r.Decide + r.Write).ElementAt(results.Count / 2);
var total = median.Read + median.Decide + median.Write;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_jobs {jobs}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_admitted {median.Result.Admitted}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_read_ms {median.Read:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_decide_ms {median.Decide:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_write_ms {median.Write:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_total_ms {total:0}"));
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"platform_decisions_per_s {jobs / (total / 1000):0}"));

// Every round starts from the same queue: all jobs queued again, unplaced, without reasons or admission events.
static async Task ResetAsync(string database)
{
    await using var connection = new NpgsqlConnection(database);
    await connection.OpenAsync();
    await using var command = new NpgsqlCommand("""
        UPDATE "Jobs" SET "Observed" = 'Queued', "QueueReason" = 'waiting for the scheduler', "QueuePosition" = NULL, "EstimatedStartAt" = NULL;
        UPDATE "JobReplicas" SET "Node" = NULL WHERE "Node" IS NOT NULL;
        DELETE FROM "JobEvents";
        """, connection);
    await command.ExecuteNonQueryAsync();
    foreach (var table in new[] { "Jobs", "JobReplicas", "JobEvents" })
    {
        await using var vacuum = new NpgsqlCommand($"VACUUM ANALYZE \"{table}\"", connection);
        await vacuum.ExecuteNonQueryAsync();
    }
}
