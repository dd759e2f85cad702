using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Core.Deployments.Backends;
using Platform.Core.Deployments.Backends.Docker;
using Platform.Core.Jobs.Backends;
using Platform.Core.Jobs;
using Platform.Core.Persistence;
using Platform.Workers.Jobs;
using Platform.Tests.Fixtures;
using Platform.Workers.Tests.Deployments;

namespace Platform.Workers.Tests.Usage;

public sealed class UsageSamplerTests
{
    /// <summary>A process group of its own, as the process backends start them: a busy loop in the leader, a sleeper in the group.</summary>
    private static (Process Process, ProcessRecord Record) StartBusyGroup()
    {
        var process = Process.Start(new ProcessStartInfo("setsid", ["sh", "-c", "sleep 600 & while :; do :; done"]))!;
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (process, new ProcessRecord(process.Id, long.Parse(fields[19], CultureInfo.InvariantCulture), 0, DateTimeOffset.UtcNow));
    }

    private static void KillGroup(Process process)
    {
        using var kill = Process.Start("kill", ["-KILL", "--", $"-{process.Id}"]);
        kill.WaitForExit();
        process.WaitForExit(5000);
    }

    [Fact]
    public async Task ARunningReplica_GetsSamples_WithTheCpuOfItsBusyLoop_AndItsMemory()
    {
        var database = await DeploymentHost.NewDatabaseAsync("usage_samples");
        var (process, record) = StartBusyGroup();
        try
        {
            Guid job, deployment;
            await using (var db = DatabaseMigrator.CreateContext(database))
            {
                var owner = await UsageSeed.UserAsync(db, "linus");
                var state = JsonSerializer.Serialize(record);
                job = await UsageSeed.RunningJobAsync(db, owner, DateTimeOffset.UtcNow, (ReplicaRole.Trainer, 1, 0, 256, state));
                deployment = await UsageSeed.RunningDeploymentAsync(db, owner, DateTimeOffset.UtcNow, 1, 0, state);
            }

            var services = new ServiceCollection()
                .AddScoped(_ => DatabaseMigrator.CreateContext(database))
                .BuildServiceProvider();
            var sampler = new UsageSampler(services.GetRequiredService<IServiceScopeFactory>(), services, TimeProvider.System, NullLogger<UsageSampler>.Instance);
            Assert.Equal(2, await sampler.SampleOnceAsync(CancellationToken.None));
            await Task.Delay(1500);
            Assert.Equal(2, await sampler.SampleOnceAsync(CancellationToken.None));

            await using var read = DatabaseMigrator.CreateContext(database);
            var rows = await read.UsageSamples.AsNoTracking().Where(s => s.WorkloadId == job).ToListAsync();
            Assert.All(rows, r => Assert.Equal("trainer-0", r.Replica));
            var cpu = rows.SelectMany(r => r.Cpu).Where(c => !float.IsNaN(c)).ToList();
            var memory = rows.SelectMany(r => r.Memory).Where(m => m >= 0).ToList();
            // The loop keeps one core busy; on a shared 2-core machine it gets at least a good part of it.
            Assert.Single(cpu);
            Assert.InRange(cpu[0], 0.2f, 1.5f);
            // Two readings 1.5 s apart share a 10 s slot or sit in two: either way every written slot has memory.
            Assert.InRange(memory.Count, 1, 2);
            Assert.All(memory, m => Assert.True(m > 100_000, $"resident memory of sh and sleep: {m}"));
            // Not measurable per process group: -1, never a made-up zero.
            Assert.All(rows.SelectMany(r => r.NetRx.Concat(r.NetTx)), n => Assert.Equal(-1, n));
            Assert.True(await read.UsageSamples.AnyAsync(s => s.WorkloadId == deployment && s.Replica == "main"));

            // A replica that ended is no longer sampled.
            KillGroup(process);
            Assert.Equal(0, await sampler.SampleOnceAsync(CancellationToken.None));
        }
        finally
        {
            KillGroup(process);
        }
    }
}

public sealed class DockerUsageSamplerTests
{
    [Fact]
    public async Task ARunningContainer_GetsSamples_FromTheEnginesStats()
    {
        var engine = await PodmanEngine.GetAsync();
        var database = await DeploymentHost.NewDatabaseAsync("usage_docker");
        Guid job;
        await using (var db = DatabaseMigrator.CreateContext(database))
        {
            var owner = await UsageSeed.UserAsync(db, "grace");
            job = await UsageSeed.RunningJobAsync(db, owner, DateTimeOffset.UtcNow, (ReplicaRole.Trainer, 1, 0, 256, "{}"));
            await db.Jobs.Where(j => j.Id == job).ExecuteUpdateAsync(s => s.SetProperty(j => j.Backend, DockerBackend.BackendName));
        }

        var name = BatchSpec.NameFor(job, "trainer-0");
        var (code, output) = await PodmanEngine.PodmanAsync("run", "-d", "--name", name, "localhost/platform-base:bookworm", "sh", "-c", "while :; do :; done");
        Assert.True(code == 0, output);
        try
        {
            var services = new ServiceCollection()
                .AddScoped(_ => DatabaseMigrator.CreateContext(database))
                .AddSingleton(new DockerBackendOptions(engine.Socket))
                .AddSingleton<DockerBackend>()
                .BuildServiceProvider();
            var sampler = new UsageSampler(services.GetRequiredService<IServiceScopeFactory>(), services, TimeProvider.System, NullLogger<UsageSampler>.Instance);
            Assert.Equal(1, await sampler.SampleOnceAsync(CancellationToken.None));
            await Task.Delay(1500);
            Assert.Equal(1, await sampler.SampleOnceAsync(CancellationToken.None));

            await using var read = DatabaseMigrator.CreateContext(database);
            var rows = await read.UsageSamples.AsNoTracking().Where(s => s.WorkloadId == job).ToListAsync();
            var cpu = rows.SelectMany(r => r.Cpu).Where(c => !float.IsNaN(c)).ToList();
            Assert.Single(cpu);
            Assert.InRange(cpu[0], 0.2f, 1.5f);
            Assert.All(rows.SelectMany(r => r.Memory).Where(m => m != -1), m => Assert.True(m > 0));
            Assert.Contains(rows.SelectMany(r => r.Memory), m => m > 0);
        }
        finally
        {
            await PodmanEngine.PodmanAsync("rm", "-f", "-t", "0", name);
        }
    }
}
