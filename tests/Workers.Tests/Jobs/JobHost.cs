using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;
using Platform.Workers.Tests.Deployments;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// A Workers host (the job reconciler running, with short poll and resync intervals) over a test database, job folders
/// and the object store in a folder of the test's. Several hosts may share one database and folder: a second host is
/// what a restarted Workers is.
/// </summary>
public sealed class JobHost(string database, string root, IReadOnlyDictionary<string, string>? settings = null)
    : WebApplicationFactory<WorkersMarker>
{
    public const string Node = "node-a";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:platformdb", database);
        builder.UseSetting("ConnectionStrings:objectstore", $"Folder={Path.Combine(root, "objects")}");
        builder.UseSetting("Platform:Deployments:WorkspaceRoot", Path.Combine(root, "workspaces"));
        builder.UseSetting("Platform:Deployments:DatasetCache", Path.Combine(root, "dataset-cache"));
        builder.UseSetting("Platform:Jobs:WorkRoot", Path.Combine(root, "jobs"));
        builder.UseSetting("Platform:Jobs:Node:Name", Node);
        builder.UseSetting("Platform:Jobs:Reconciler:PollInterval", "00:00:00.300");
        builder.UseSetting("Platform:Jobs:Reconciler:ResyncInterval", "00:00:00.500");
        builder.UseSetting("Platform:Jobs:Reconciler:Lease", "00:00:20");
        builder.UseSetting("Platform:PublicUrl", "http://platform.test");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(s => s.AddSingleton<IModuleCatalog>(StaticModuleCatalog.Default));
    }

    public ProcessBatchBackend Backend => Services.GetRequiredService<ProcessBatchBackend>();

    public async Task<T> WithAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        using var scope = Services.CreateScope();
        return await action(scope.ServiceProvider);
    }

    public async Task<Guid> SubmitAsync(Guid userId, SubmitJobRequest request)
    {
        var result = await WithAsync(sp => sp.GetRequiredService<JobService>().SubmitAsync(userId, request));
        Assert.True(result.IsSuccess, result.Error?.Message + " " + string.Join("; ", result.Error?.Fields?.SelectMany(f => f.Value) ?? []));
        return result.Value!.Id;
    }

    /// <summary>
    /// Waits for the host's own scheduler (Workers' JobScheduler) to admit the job: every replica placed on a node and the
    /// job past Queued. The reconciler takes it from there.
    /// </summary>
    public async Task AdmitAsync(Guid jobId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (job, replicas) = await RowAsync(jobId);
            if (job.Observed != JobObserved.Queued)
            {
                Assert.All(replicas, r => Assert.False(string.IsNullOrEmpty(r.Node), $"{r.Label} was admitted without a node"));
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the scheduler did not admit job {jobId} within 60 s: {job.QueueReason}");
            await Task.Delay(100);
        }
    }

    public async Task<(Job Job, List<JobReplica> Replicas)> RowAsync(Guid id)
    {
        await using var db = DatabaseMigrator.CreateContext(database);
        var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == id);
        var replicas = await db.JobReplicas.AsNoTracking().Where(r => r.JobId == id).OrderBy(r => r.Role).ThenBy(r => r.Index).ToListAsync();
        return (job, replicas);
    }

    public async Task<List<string>> EventsAsync(Guid id)
    {
        await using var db = DatabaseMigrator.CreateContext(database);
        return await db.JobEvents.Where(e => e.JobId == id).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
    }

    public async Task<PlatformDbContext> DbAsync() => await Task.FromResult(DatabaseMigrator.CreateContext(database));

    /// <summary>Waits until the job satisfies <paramref name="done"/>; fails with the job, its replicas and its events when it does not in time.</summary>
    public async Task<(Job Job, List<JobReplica> Replicas)> WaitForAsync(Guid id, Func<Job, List<JobReplica>, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var (job, replicas) = await RowAsync(id);
            if (done(job, replicas))
            {
                return (job, replicas);
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"job {id} stuck: desired {job.Desired}, observed {job.Observed}, reason {job.Reason}\n" +
                    string.Join("\n", replicas.Select(r => $"{r.Label} {r.Observed} {r.ExitCode} {r.Reason}")) + "\n" +
                    string.Join("\n", await EventsAsync(id)));
            }

            await Task.Delay(100);
        }
    }

    public static Task<string> NewDatabaseAsync(string prefix) => DeploymentHost.NewDatabaseAsync(prefix);

    /// <summary>A user with an account of their own, written as registration writes them.</summary>
    public async Task<Guid> CreateUserAsync(string name)
    {
        await using var db = DatabaseMigrator.CreateContext(database);
        var now = DateTimeOffset.UtcNow;
        var user = new PlatformUser { Id = Guid.CreateVersion7(), UserName = $"{name}-{Guid.NewGuid():N}@example.test", DisplayName = name, CreatedAt = now };
        user.Email = user.UserName;
        var account = new Account { Id = Guid.CreateVersion7(), Name = name, CreatedAt = now };
        account.Members.Add(new Membership { UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
        user.CurrentAccountId = account.Id;
        db.Users.Add(user);
        db.Accounts.Add(account);
        await db.SaveChangesAsync();
        return user.Id;
    }
}
