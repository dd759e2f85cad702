using Microsoft.EntityFrameworkCore;
using Platform.Core.Deployments;
using Platform.Core.Jobs;
using Platform.Core.Persistence;
using Platform.Core.Usage;
using Platform.Workers.Tests.Deployments;

namespace Platform.Workers.Tests.Usage;

public sealed class UsageAccountingTests
{
    private static readonly DateTimeOffset At1040 = new(2026, 11, 21, 10, 40, 0, TimeSpan.Zero);

    [Fact]
    public async Task AJobAcrossAnHourBoundary_IsAccountedPerHour_Exactly_AndAgainTheSame()
    {
        var database = await DeploymentHost.NewDatabaseAsync("usage_jobs");
        await using var db = DatabaseMigrator.CreateContext(database);
        var owner = await UsageSeed.UserAsync(db, "ada");
        var job = await UsageSeed.RunningJobAsync(db, owner, At1040,
            (ReplicaRole.Trainer, 2, 1, 1024, null), (ReplicaRole.Trainer, 2, 1, 1024, null), (ReplicaRole.ParameterServer, 0.5, 0, 512, null));
        var clock = new SetClock(At1040.AddMinutes(40)); // 11:20
        var accounting = new UsageAccounting(db, clock);

        await accounting.AccountAsync(CancellationToken.None);
        var first = await UsageSeed.RecordsAsync(db, job);
        Assert.Equal([At1040.AddMinutes(-40), At1040.AddMinutes(20)], first.Select(r => r.Hour));
        // 10:40–11:00 and 11:00–11:20: 1200 s each, 4.5 CPUs, 2 GPUs, 2560 MiB, counted from the admission event.
        Assert.All(first, r => Assert.Equal(4.5 * 1200, r.CpuSeconds, 6));
        Assert.All(first, r => Assert.Equal(2 * 1200, r.GpuSeconds, 6));
        Assert.All(first, r => Assert.Equal(2560.0 * 1200, r.MemoryMiBSeconds, 6));
        Assert.All(first, r => Assert.Equal((owner.User, owner.Account), (r.UserId, r.AccountId)));

        // Repeated (a crash before the next pass, or two Workers): the same numbers, never added.
        await accounting.AccountAsync(CancellationToken.None);
        await accounting.AccountAsync(CancellationToken.None);
        var again = await UsageSeed.RecordsAsync(db, job);
        Assert.Equal(first.Select(r => (r.Hour, r.CpuSeconds, r.GpuSeconds)), again.Select(r => (r.Hour, r.CpuSeconds, r.GpuSeconds)));

        // It ends at 11:50; Workers only notices at 12:30: the last hour is final at 50 minutes, nothing after.
        await db.Jobs.Where(j => j.Id == job).ExecuteUpdateAsync(s => s
            .SetProperty(j => j.Observed, JobObserved.Succeeded).SetProperty(j => j.FinishedAt, At1040.AddMinutes(70)));
        clock.Now = At1040.AddMinutes(110);
        await accounting.AccountAsync(CancellationToken.None);
        var final = await UsageSeed.RecordsAsync(db, job);
        Assert.Equal(2, final.Count);
        Assert.Equal(4.5 * 1200, final[0].CpuSeconds, 6);
        Assert.Equal(4.5 * 3000, final[1].CpuSeconds, 6);
        Assert.Equal(2 * 3000, final[1].GpuSeconds, 6);
        var interval = await db.UsageIntervals.AsNoTracking().SingleAsync(i => i.WorkloadId == job);
        Assert.Equal(At1040.AddMinutes(70), interval.EndedAt);

        clock.Now = At1040.AddHours(5);
        await accounting.AccountAsync(CancellationToken.None);
        Assert.Equal(final.Select(r => (r.Hour, r.CpuSeconds)), (await UsageSeed.RecordsAsync(db, job)).Select(r => (r.Hour, r.CpuSeconds)));
    }

    [Fact]
    public async Task ADeployment_IsAccountedPerRun_AndARestartInTheSameHour_AddsBothRuns()
    {
        var database = await DeploymentHost.NewDatabaseAsync("usage_ides");
        await using var db = DatabaseMigrator.CreateContext(database);
        var owner = await UsageSeed.UserAsync(db, "grace");
        var nineThirty = At1040.AddMinutes(-70);
        var id = await UsageSeed.RunningDeploymentAsync(db, owner, nineThirty, cpus: 2, gpus: 1);
        var clock = new SetClock(At1040.AddMinutes(-25)); // 10:15
        var accounting = new UsageAccounting(db, clock);
        await accounting.AccountAsync(CancellationToken.None);
        var first = await UsageSeed.RecordsAsync(db, id);
        Assert.Equal([2 * 1800.0, 2 * 900.0], first.Select(r => r.CpuSeconds));
        Assert.Equal([1800.0, 900.0], first.Select(r => r.GpuSeconds));

        // Stopped at 10:20 and started again at 10:40, both between two passes; the pass at 10:50 sees the second run.
        await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.StoppedAt, At1040.AddMinutes(-20)).SetProperty(d => d.StartedAt, At1040));
        clock.Now = At1040.AddMinutes(10);
        await accounting.AccountAsync(CancellationToken.None);
        await accounting.AccountAsync(CancellationToken.None);
        var records = await UsageSeed.RecordsAsync(db, id);
        // 10:00–10:20 and 10:40–10:50: 30 minutes in hour 10.
        Assert.Equal([2 * 1800.0, 2 * 1800.0], records.Select(r => r.CpuSeconds));
        Assert.All(records, r => Assert.Equal(WorkloadKind.Deployment, r.WorkloadKind));
        var runs = await db.UsageIntervals.AsNoTracking().Where(i => i.WorkloadId == id).OrderBy(i => i.StartedAt).ToListAsync();
        Assert.Equal([At1040.AddMinutes(-20), null], runs.Select(r => r.EndedAt));

        // Stopped for good at 11:05.
        await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(d => d.Observed, ObservedState.Stopped).SetProperty(d => d.StoppedAt, At1040.AddMinutes(25)));
        clock.Now = At1040.AddMinutes(60);
        await accounting.AccountAsync(CancellationToken.None);
        records = await UsageSeed.RecordsAsync(db, id);
        Assert.Equal([2 * 1800.0, 2 * 2400.0, 2 * 300.0], records.Select(r => r.CpuSeconds));
    }

    [Fact]
    public void Split_CountsEachIntervalsOverlapWithEachHour()
    {
        var hour = new DateTimeOffset(2026, 1, 1, 5, 0, 0, TimeSpan.Zero);
        var intervals = new List<UsageInterval>
        {
            new() { StartedAt = hour.AddMinutes(-30), EndedAt = hour.AddMinutes(15), Cpus = 1, Gpus = 1, MemoryMiB = 100 },
            new() { StartedAt = hour.AddMinutes(45), EndedAt = null, Cpus = 4, Gpus = 0, MemoryMiB = 10 },
        };
        var hours = UsageAccounting.Split(intervals, hour, hour.AddMinutes(90), hour.AddMinutes(90));
        Assert.Equal([hour, hour.AddHours(1)], hours.Select(h => h.Hour));
        Assert.Equal(900 + 4 * 900, hours[0].CpuSeconds);
        Assert.Equal(4 * 1800, hours[1].CpuSeconds);
        Assert.Equal(900, hours[0].GpuSeconds);
        Assert.Equal(100 * 900 + 10 * 900, hours[0].MemoryMiBSeconds);
    }
}
