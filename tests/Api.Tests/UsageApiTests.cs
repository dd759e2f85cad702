using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Jobs;

namespace Platform.Api.Tests;

public sealed class UsageApiTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    private static async Task<Guid> SubmitAsync(TestUser user, string name)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/jobs", new { name, command = new[] { "sh", "-c", "true" }, trainers = new { count = 1, cpus = 2, gpus = 0 } });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    private static DateTimeOffset ThisHour()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, 0, 0, TimeSpan.Zero);
    }

    private Task AddRecordAsync(WorkloadKind kind, Guid id, TestUser owner, DateTimeOffset hour, double cpuSeconds, double gpuSeconds) =>
        factory.WithDbAsync(async db =>
        {
            db.UsageRecords.Add(new UsageRecord
            {
                WorkloadKind = kind, WorkloadId = id, Hour = hour, AccountId = owner.AccountId, UserId = owner.Id,
                CpuSeconds = cpuSeconds, GpuSeconds = gpuSeconds, MemoryMiBSeconds = cpuSeconds * 512,
            });
            return await db.SaveChangesAsync();
        });

    [Fact]
    public async Task AJobsUsage_IsItsSamplesPerReplica_ForItsOwnerOnly()
    {
        var owner = await factory.CreateUserAsync();
        var job = await SubmitAsync(owner, "charted");
        var minute = new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
        await factory.WithDbAsync(async db =>
        {
            db.UsageSamples.Add(new UsageSample
            {
                WorkloadKind = WorkloadKind.Job, WorkloadId = job, Replica = "trainer-0", Minute = minute,
                Cpu = [float.NaN, 1.5f, 0.25f, float.NaN, float.NaN, float.NaN],
                Memory = [1_000_000, 2_000_000, 3_000_000, -1, -1, -1],
                Gpu = [float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN],
                NetRx = [-1, -1, -1, -1, -1, -1], NetTx = [-1, -1, -1, -1, -1, -1],
                DiskRead = [-1, 4096, 0, -1, -1, -1], DiskWrite = [-1, 8192, 0, -1, -1, -1],
            });
            return await db.SaveChangesAsync();
        });

        var usage = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{job}/usage");
        var replica = usage.GetProperty("replicas").EnumerateArray().Single();
        Assert.Equal("trainer-0", replica.GetProperty("replica").GetString());
        // Three slots were written; the never-written ones are no points at all, the unmeasured values null.
        Assert.Equal([minute, minute.AddSeconds(10), minute.AddSeconds(20)], replica.GetProperty("t").EnumerateArray().Select(t => t.GetDateTimeOffset()));
        Assert.Equal([null, 1.5, 0.25], replica.GetProperty("cpu").EnumerateArray().Select(v => v.ValueKind == JsonValueKind.Null ? (double?)null : v.GetDouble()));
        Assert.Equal([1_000_000L, 2_000_000L, 3_000_000L], replica.GetProperty("memory").EnumerateArray().Select(v => v.GetInt64()));
        Assert.All(replica.GetProperty("netRx").EnumerateArray(), v => Assert.Equal(JsonValueKind.Null, v.ValueKind));
        Assert.Equal(4096, replica.GetProperty("diskRead")[1].GetInt64());
        Assert.Contains(usage.GetProperty("notes").EnumerateArray(), n => n.GetString()!.Contains("not measured on the process backend", StringComparison.Ordinal));

        var stranger = await factory.CreateUserAsync();
        await (await stranger.Client.GetAsync($"/api/v1/jobs/{job}/usage")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await owner.Client.GetAsync($"/api/v1/jobs/{Guid.NewGuid()}/usage")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ADeploymentsUsage_IsForWhoeverSeesTheDeployment()
    {
        var owner = await factory.CreateUserAsync();
        var id = Guid.CreateVersion7();
        var now = DateTimeOffset.UtcNow;
        await factory.WithDbAsync(async db =>
        {
            db.Deployments.Add(new Platform.Core.Deployments.Deployment
            {
                Id = id, AccountId = owner.AccountId, OwnerUserId = owner.Id, Module = "development", Title = "Notebook", Cpus = 1, MemoryMiB = 1024,
                Backend = "process", Desired = Platform.Core.Deployments.DesiredState.Running, Observed = Platform.Core.Deployments.ObservedState.Running,
                StartedAt = now, CreatedAt = now, UpdatedAt = now,
            });
            db.UsageSamples.Add(new UsageSample
            {
                WorkloadKind = WorkloadKind.Deployment, WorkloadId = id, Replica = "main", Minute = new DateTimeOffset(now.Year, now.Month, now.Day, now.Hour, now.Minute, 0, TimeSpan.Zero),
                Cpu = [0.5f, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN], Memory = [2048, -1, -1, -1, -1, -1],
                Gpu = [float.NaN, float.NaN, float.NaN, float.NaN, float.NaN, float.NaN], NetRx = [-1, -1, -1, -1, -1, -1], NetTx = [-1, -1, -1, -1, -1, -1],
                DiskRead = [-1, -1, -1, -1, -1, -1], DiskWrite = [-1, -1, -1, -1, -1, -1],
            });
            return await db.SaveChangesAsync();
        });

        var usage = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/usage");
        Assert.Equal("deployment", usage.GetProperty("kind").GetString());
        Assert.True(usage.GetProperty("running").GetBoolean());
        var main = usage.GetProperty("replicas").EnumerateArray().Single();
        Assert.Equal("main", main.GetProperty("replica").GetString());
        Assert.Equal(0.5, main.GetProperty("cpu")[0].GetDouble());

        var stranger = await factory.CreateUserAsync();
        await (await stranger.Client.GetAsync($"/api/v1/deployments/{id}/usage")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheUsageReport_AddsUpJobsAndIdes_PerHour_AsJsonAndCsv()
    {
        var owner = await factory.CreateUserAsync();
        var job = await SubmitAsync(owner, "=sum(A1)");
        var ide = Guid.NewGuid();
        var hour = ThisHour();
        await AddRecordAsync(WorkloadKind.Job, job, owner, hour.AddHours(-2), 7200, 3600);
        await AddRecordAsync(WorkloadKind.Job, job, owner, hour.AddHours(-1), 1800, 0);
        await AddRecordAsync(WorkloadKind.Deployment, ide, owner, hour.AddHours(-1), 3600, 0);
        // Outside the day window: counted in the week, not in the day.
        await AddRecordAsync(WorkloadKind.Job, job, owner, hour.AddHours(-30), 36000, 0);

        var day = await owner.Client.GetFromJsonAsync<JsonElement>("/api/v1/usage?window=day");
        Assert.Equal(owner.AccountId, day.GetProperty("accountId").GetGuid());
        Assert.Equal("hour", day.GetProperty("bucket").GetString());
        Assert.Equal(24, day.GetProperty("buckets").GetArrayLength());
        Assert.Equal(3.5, day.GetProperty("cpuHours").GetDouble(), 6);
        Assert.Equal(1.0, day.GetProperty("gpuHours").GetDouble(), 6);
        var buckets = day.GetProperty("buckets").EnumerateArray().ToDictionary(b => b.GetProperty("start").GetDateTimeOffset());
        Assert.Equal(2.0, buckets[hour.AddHours(-2)].GetProperty("jobCpuHours").GetDouble(), 6);
        Assert.Equal(0.5, buckets[hour.AddHours(-1)].GetProperty("jobCpuHours").GetDouble(), 6);
        Assert.Equal(1.0, buckets[hour.AddHours(-1)].GetProperty("ideCpuHours").GetDouble(), 6);
        var jobRow = day.GetProperty("workloads").EnumerateArray().Single(w => w.GetProperty("kind").GetString() == "job");
        Assert.Equal("=sum(A1)", jobRow.GetProperty("name").GetString());
        Assert.Equal(2.5, jobRow.GetProperty("cpuHours").GetDouble(), 6);
        Assert.Contains(day.GetProperty("limits").EnumerateArray(), l => l.GetProperty("label").GetString() == "Running jobs");

        var week = await owner.Client.GetFromJsonAsync<JsonElement>("/api/v1/usage?window=week");
        Assert.Equal(13.5, week.GetProperty("cpuHours").GetDouble(), 6);

        var csv = await owner.Client.GetAsync("/api/v1/usage?window=day&format=csv");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal("bucket_start,kind,workload_id,name,user,cpu_hours,gpu_hours,memory_gib_hours", lines[0]);
        Assert.Equal(4, lines.Length);
        Assert.Equal($"{hour.AddHours(-2):yyyy-MM-ddTHH:mm:ssZ},job,{job},'=sum(A1),user", lines[1][..lines[1].LastIndexOf(",user", StringComparison.Ordinal)] + ",user");
        Assert.EndsWith(",2,1,1", lines[1], StringComparison.Ordinal);
        Assert.Contains(lines, l => l.Contains($",ide,{ide},", StringComparison.Ordinal) && l.EndsWith(",1,0,0.5", StringComparison.Ordinal));
        Assert.Equal(lines, (await owner.Client.GetStringAsync("/api/v1/usage.csv?window=day")).TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task BadWindows_AreFieldErrors_OthersAccountsAre404_AndTheWholeAccountIsForMasters()
    {
        var master = await factory.CreateUserAsync();
        var member = await factory.CreateUserAsync();
        await factory.JoinAsync(master, master.AccountId, member, "member");
        var memberJob = await SubmitAsync(member, "members-job");
        await AddRecordAsync(WorkloadKind.Job, memberJob, member, ThisHour(), 900, 0);
        await factory.WithDbAsync(db => db.UsageRecords.Where(r => r.WorkloadId == memberJob)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.AccountId, master.AccountId)));

        var bad = await (await master.Client.GetAsync("/api/v1/usage?window=year&scope=everyone")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("window must be day, week or month.", bad.FieldErrors("window"));
        Assert.Contains("scope must be me or account.", bad.FieldErrors("scope"));

        await (await member.Client.GetAsync($"/api/v1/usage?scope=account&accountId={master.AccountId}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await member.Client.GetAsync($"/api/v1/usage?scope=account&accountId={master.AccountId}&format=csv")).AssertProblemAsync(HttpStatusCode.Forbidden);
        var stranger = await factory.CreateUserAsync();
        await (await stranger.Client.GetAsync($"/api/v1/usage?accountId={master.AccountId}")).AssertProblemAsync(HttpStatusCode.NotFound);

        // The member sees their own quarter hour there; the master sees it in the account's total, not in their own.
        var mine = await member.Client.GetFromJsonAsync<JsonElement>($"/api/v1/usage?window=day&accountId={master.AccountId}");
        Assert.Equal(0.25, mine.GetProperty("cpuHours").GetDouble(), 6);
        Assert.False(mine.GetProperty("canSeeAccount").GetBoolean());
        var account = await master.Client.GetFromJsonAsync<JsonElement>("/api/v1/usage?window=day&scope=account");
        Assert.Equal(0.25, account.GetProperty("cpuHours").GetDouble(), 6);
        Assert.Equal("members-job", account.GetProperty("workloads")[0].GetProperty("name").GetString());
        var masters = await master.Client.GetFromJsonAsync<JsonElement>("/api/v1/usage?window=day");
        Assert.Equal(0, masters.GetProperty("cpuHours").GetDouble());
    }

    [Fact]
    public async Task Nodes_AreForPlatformAdmins_WithCapacityAndLiveUse()
    {
        var user = await factory.CreateUserAsync();
        await (await user.Client.GetAsync("/api/v1/admin/nodes")).AssertProblemAsync(HttpStatusCode.Forbidden);

        var admin = await factory.CreateUserAsync();
        await factory.WithDbAsync(db => db.Users.Where(u => u.Id == admin.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsPlatformAdmin, true)));
        var nodes = await admin.Client.GetFromJsonAsync<JsonElement>("/api/v1/admin/nodes");
        var node = nodes.EnumerateArray().Single();
        Assert.Equal("process", node.GetProperty("backend").GetString());
        Assert.Equal(Environment.ProcessorCount, node.GetProperty("cpus").GetDouble());
        Assert.InRange(node.GetProperty("cpuPercent").GetDouble(), 0, 100);
        Assert.True(node.GetProperty("memoryUsedBytes").GetInt64() > 0);
        Assert.True(node.GetProperty("memoryTotalBytes").GetInt64() >= node.GetProperty("memoryUsedBytes").GetInt64());
    }
}
