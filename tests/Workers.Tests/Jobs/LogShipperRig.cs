using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core;
using Platform.Core.Accounts;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;
using Platform.Core.Storage;
using Platform.Workers.Jobs;
using Platform.Workers.Tests.Deployments;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// A test database with a user and a job "running" one replica through the real process backend (rows written as the
/// reconciler writes them), a folder object store, and shippers built as Workers builds them (AddPlatformCore +
/// AddJobLogShipper) but driven pass by pass, so a test can stop one and start another as a restart would.
/// </summary>
public sealed class LogShipperRig : IAsyncDisposable
{
    private readonly List<ServiceProvider> providers = [];

    private LogShipperRig(string database, string root, Dictionary<string, string?> settings)
    {
        Database = database;
        Root = root;
        Settings = settings;
    }

    public string Database { get; }
    public string Root { get; }
    public Dictionary<string, string?> Settings { get; }
    public Guid JobId { get; private set; }
    public ProcessBatchBackend Backend { get; private set; } = null!;
    public IObjectStore Store { get; private set; } = null!;

    public static async Task<LogShipperRig> CreateAsync(long maxLogBytes = 1L << 30, int chunkBytes = 4096, int maxLineBytes = 1024)
    {
        var database = await DeploymentHost.NewDatabaseAsync("logs");
        var root = Directory.CreateTempSubdirectory("platform-logs-").FullName;
        var rig = new LogShipperRig(database, root, new Dictionary<string, string?>
        {
            ["ConnectionStrings:platformdb"] = database,
            ["ConnectionStrings:objectstore"] = $"Folder={Path.Combine(root, "objects")}",
            ["Platform:Jobs:WorkRoot"] = Path.Combine(root, "jobs"),
            ["Platform:Jobs:MaxLogBytes"] = maxLogBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Platform:Jobs:LogShipper:ChunkBytes"] = chunkBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Platform:Jobs:LogShipper:MaxLineBytes"] = maxLineBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Platform:Jobs:LogShipper:PartialLineDelay"] = "00:00:00.5",
        });
        var services = rig.NewProvider();
        rig.Backend = services.GetRequiredService<ProcessBatchBackend>();
        rig.Store = services.GetRequiredService<IObjectStore>();
        await rig.Store.EnsureReadyAsync();
        return rig;
    }

    /// <summary>A fresh shipper, as a restarted Workers process would have (its own pools, its own memory).</summary>
    public LogShipper NewShipper() => NewProvider().GetRequiredService<LogShipper>();

    private ServiceProvider NewProvider()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddPlatformCore(configuration);
        services.AddJobLogShipper(configuration);
        var provider = services.BuildServiceProvider();
        providers.Add(provider);
        return provider;
    }

    /// <summary>Writes a user, an account and a running job with one trainer, then starts the trainer's command.</summary>
    public async Task<Guid> StartJobAsync(params string[] command)
    {
        await using var db = DatabaseMigrator.CreateContext(Database);
        var now = DateTimeOffset.UtcNow;
        var user = new PlatformUser { Id = Guid.CreateVersion7(), UserName = $"logs-{Guid.NewGuid():N}@example.test", DisplayName = "logs", CreatedAt = now };
        user.Email = user.UserName;
        var account = new Account { Id = Guid.CreateVersion7(), Name = "logs", CreatedAt = now };
        account.Members.Add(new Membership { UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
        user.CurrentAccountId = account.Id;
        db.Users.Add(user);
        db.Accounts.Add(account);
        var job = new Job
        {
            Id = Guid.CreateVersion7(), AccountId = account.Id, OwnerUserId = user.Id, Name = "logs", Command = [.. command],
            Backend = ProcessBackend.BackendName, Observed = JobObserved.Running, SubmittedAt = now, StartedAt = now, UpdatedAt = now,
        };
        db.Jobs.Add(job);
        var spec = new BatchSpec(job.Id, "trainer-0", null, command, new Dictionary<string, string>(), 1, 0, 256, 0, [], null, user.Id, account.Id);
        var started = await Backend.StartAsync(spec, null, CancellationToken.None);
        db.JobReplicas.Add(new JobReplica
        {
            JobId = job.Id, Role = ReplicaRole.Trainer, Index = 0, Cpus = 1, MemoryMiB = 256, Observed = ReplicaObserved.Running,
            BackendState = started.State, StartedAt = now,
        });
        await db.SaveChangesAsync();
        JobId = job.Id;
        return job.Id;
    }

    public async Task<JobReplica> ReplicaAsync()
    {
        await using var db = DatabaseMigrator.CreateContext(Database);
        return await db.JobReplicas.AsNoTracking().SingleAsync(r => r.JobId == JobId);
    }

    public async Task<List<JobLogChunk>> ChunksAsync()
    {
        await using var db = DatabaseMigrator.CreateContext(Database);
        return await db.JobLogChunks.AsNoTracking().Where(c => c.JobId == JobId).OrderBy(c => c.Seq).ToListAsync();
    }

    public async Task<byte[]> ObjectAsync(string key)
    {
        await using var reader = await Store.OpenReadAsync(key) ?? throw new Xunit.Sdk.XunitException($"no object {key}");
        using var copy = new MemoryStream();
        await reader.Content.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>Passes of the given shippers until the replica's log is complete; fails after the timeout.</summary>
    public async Task ShipUntilCompleteAsync(TimeSpan timeout, params LogShipper[] shippers)
    {
        var deadline = DateTime.UtcNow + timeout;
        while ((await ReplicaAsync()).LogState != JobLogState.Complete)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the log of job {JobId} was not complete in {timeout}: {(await ReplicaAsync()).LogBytes} bytes shipped");
            await Task.WhenAll(shippers.Select(s => s.PassAsync(CancellationToken.None)));
            await Task.Delay(100);
        }
    }

    /// <summary>The chunks cover the output byte for byte: contiguous offsets, objects as long as their rows say, seq 0..n-1.</summary>
    public async Task<byte[]> AssertContiguousAsync()
    {
        var chunks = await ChunksAsync();
        using var all = new MemoryStream();
        long offset = 0;
        for (var i = 0; i < chunks.Count; i++)
        {
            var chunk = chunks[i];
            Assert.Equal(i, chunk.Seq);
            Assert.Equal(JobLogService.KeyOf(JobId, "trainer-0", i), chunk.ObjectKey);
            Assert.Equal(offset, chunk.Offset);
            var bytes = await ObjectAsync(chunk.ObjectKey);
            if (chunk.Bytes > 0)
            {
                Assert.Equal(chunk.Bytes, bytes.Length);
                all.Write(bytes);
            }

            offset += chunk.Bytes;
        }

        Assert.Equal(offset, (await ReplicaAsync()).LogBytes);
        return all.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        if (JobId != Guid.Empty)
        {
            await Backend.StopAsync(JobId, "trainer-0", null, CancellationToken.None);
        }

        foreach (var provider in providers)
        {
            await provider.DisposeAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }
}
