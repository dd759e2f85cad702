using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Jobs;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;
using Platform.Workers.Jobs;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// A Workers host over a test database whose scheduler passes every 200 ms, with one node of the capacity given
/// (the process backend's <c>Platform:Jobs:Node</c>), named "node-a".
/// </summary>
public sealed class SchedulerHost(string database, double cpus, int gpus, long memoryMiB = 65536) : WebApplicationFactory<WorkersMarker>
{
    public const string Node = "node-a";

    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-sched-{Guid.NewGuid():N}");

    public string Database => database;

    public static async Task<string> NewDatabaseAsync()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("sched");
        await DatabaseMigrator.MigrateAsync(database);
        return database;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:platformdb", database);
        builder.UseSetting("Platform:Deployments:WorkspaceRoot", Path.Combine(_root, "workspaces"));
        builder.UseSetting("Platform:Jobs:WorkRoot", Path.Combine(_root, "jobs"));
        builder.UseSetting("Platform:PublicUrl", "http://platform.test");
        builder.UseSetting("Platform:Jobs:Node:Name", Node);
        builder.UseSetting("Platform:Jobs:Node:Cpus", cpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Platform:Jobs:Node:Gpus", gpus.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Platform:Jobs:Node:MemoryMiB", memoryMiB.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Platform:Jobs:Scheduler:Interval", "00:00:00.200");
        builder.ConfigureServices(s => s.AddSingleton<IModuleCatalog>(StaticModuleCatalog.Default));
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    public JobScheduler Scheduler => Services.GetRequiredService<JobScheduler>();

    public PlatformDbContext NewContext() => DatabaseMigrator.CreateContext(database);

    /// <summary>A user with an account of their own (its master), as registration writes them; returns (user, account).</summary>
    public async Task<(Guid User, Guid Account)> CreateUserAsync(string name)
    {
        await using var db = NewContext();
        var now = DateTimeOffset.UtcNow;
        var user = new PlatformUser { Id = Guid.CreateVersion7(), UserName = $"{name}-{Guid.NewGuid():N}@example.test", DisplayName = name, CreatedAt = now };
        user.Email = user.UserName;
        var account = new Account { Id = Guid.CreateVersion7(), Name = name, CreatedAt = now };
        account.Members.Add(new Membership { UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
        user.CurrentAccountId = account.Id;
        db.Users.Add(user);
        db.Accounts.Add(account);
        await db.SaveChangesAsync();
        return (user.Id, account.Id);
    }

    public async Task<T> WithAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        using var scope = Services.CreateScope();
        return await action(scope.ServiceProvider);
    }

    /// <summary>Submits through the real JobService: <paramref name="trainers"/> replicas of the CPUs and GPUs given, sleeping two minutes (longer than any test here, so none ends by itself).</summary>
    public async Task<Guid> SubmitAsync(Guid user, string name, int trainers = 1, double cpus = 1, int gpus = 0, int? timeLimitMinutes = null, int priority = 0)
    {
        var result = await WithAsync(sp => sp.GetRequiredService<JobService>().SubmitAsync(user, new SubmitJobRequest(
            Name: name, Command: ["sleep", "120"], Trainers: new ReplicaGroupRequest(trainers, cpus, gpus, 256), Priority: priority,
            TimeLimitMinutes: timeLimitMinutes)));
        Assert.True(result.IsSuccess, result.Error?.Message);
        return result.Value!.Id;
    }

    public async Task<Job> JobAsync(Guid id)
    {
        await using var db = NewContext();
        return await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id);
    }

    public async Task<List<JobReplica>> ReplicasAsync(Guid id)
    {
        await using var db = NewContext();
        return await db.JobReplicas.AsNoTracking().Where(r => r.JobId == id).OrderBy(r => r.Role).ThenBy(r => r.Index).ToListAsync();
    }

    public async Task<List<string>> EventsAsync(Guid id)
    {
        await using var db = NewContext();
        return await db.JobEvents.AsNoTracking().Where(e => e.JobId == id).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
    }

    /// <summary>Admitted: the scheduler moved it on (Starting; Running or later once a reconciler runs it).</summary>
    public static bool Admitted(Job j) => j.Observed != JobObserved.Queued;

    /// <summary>Decided: the scheduler wrote its own reason (submit writes "waiting for the scheduler").</summary>
    public static bool Decided(Job j) => j.Observed == JobObserved.Queued && j.QueueReason is not null && j.QueueReason != "waiting for the scheduler";

    public async Task<Job> WaitForAsync(Guid id, Func<Job, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var job = await JobAsync(id);
            if (done(job))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"job {job.Name} ({id}) stuck: observed {job.Observed}, queue reason '{job.QueueReason}', position {job.QueuePosition}\n" +
                    string.Join("\n", await EventsAsync(id)));
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Sets an account's quotas as an admin would (through JobQuotaService).</summary>
    public async Task SetAccountQuotasAsync(Guid account, UpdateJobQuotasRequest quotas)
    {
        var result = await WithAsync(sp => sp.GetRequiredService<JobQuotaService>().SetAccountAsync(account, quotas));
        Assert.True(result.IsSuccess, result.Error?.Message);
    }

    /// <summary>Usage as the accounting loop records it: one row per hour for a workload of the account.</summary>
    public async Task RecordUsageAsync(Guid account, Guid user, DateTimeOffset hour, double cpuSeconds, double gpuSeconds)
    {
        await using var db = NewContext();
        db.UsageRecords.Add(new UsageRecord
        {
            WorkloadKind = WorkloadKind.Job, WorkloadId = Guid.NewGuid(), Hour = hour, AccountId = account, UserId = user,
            CpuSeconds = cpuSeconds, GpuSeconds = gpuSeconds,
        });
        await db.SaveChangesAsync();
    }
}
