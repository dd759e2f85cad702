using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs;
using Platform.Core.Persistence;
using Platform.Workers.Jobs;
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
