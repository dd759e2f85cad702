using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Jobs;

namespace Platform.Api.Tests;

/// <summary>The API on one node of 4 CPUs and 2 GPUs, so previews and refusals are known exactly.</summary>
public sealed class JobQuotasApiFactory : ApiFactory
{
    protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Platform:Jobs:Node:Name", "node-q");
        builder.UseSetting("Platform:Jobs:Node:Cpus", "4");
        builder.UseSetting("Platform:Jobs:Node:Gpus", "2");
        builder.UseSetting("Platform:Jobs:Node:MemoryMiB", "16384");
    }
}

public sealed class JobQuotasApiTests(JobQuotasApiFactory factory) : IClassFixture<JobQuotasApiFactory>
{
    /// <summary>A platform admin; made first, so later users are never the platform's first (an admin too).</summary>
    private async Task<TestUser> AdminAsync()
    {
        var admin = await factory.NamedUserAsync("admin");
        await factory.WithDbAsync(db => db.Users.Where(u => u.Id == admin.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.IsPlatformAdmin, true)));
        return admin;
    }

    [Fact]
    public async Task AdminsSetAccountQuotas_WithFieldErrors_AndOthersAreRefused()
    {
        var admin = await AdminAsync();
        var user = await factory.CreateUserAsync();
        var path = $"/api/v1/admin/accounts/{user.AccountId}/job-quotas";

        await (await user.Client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await user.Client.PutAsJsonAsync(path, new { maxGpus = 4 })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await admin.Client.GetAsync($"/api/v1/admin/accounts/{Guid.NewGuid()}/job-quotas")).AssertProblemAsync(HttpStatusCode.NotFound);

        var initial = await admin.Client.GetFromJsonAsync<JsonElement>(path);
        Assert.True(initial.GetProperty("isDefault").GetBoolean());
        Assert.Equal(1, initial.GetProperty("weight").GetDouble());

        var invalid = await (await admin.Client.PutAsJsonAsync(path, new { maxGpus = -1, gpuHoursPerDay = double.MaxValue, weight = 0 }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["A limit is zero or more (at most 1000000); leave it empty for no limit."], invalid.FieldErrors("maxGpus"));
        Assert.NotEmpty(invalid.FieldErrors("gpuHoursPerDay"));
        Assert.NotEmpty(invalid.FieldErrors("weight"));

        var set = await (await admin.Client.PutAsJsonAsync(path, new { maxRunningJobs = 3, maxGpus = 2, gpuHoursPerDay = 8, weight = 2 }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(set.GetProperty("isDefault").GetBoolean());
        Assert.Equal(2, set.GetProperty("limits").GetProperty("maxGpus").GetInt32());
        Assert.Equal(8, set.GetProperty("limits").GetProperty("gpuHoursPerDay").GetDouble());
        Assert.Equal(JsonValueKind.Null, set.GetProperty("limits").GetProperty("cpuHoursPerDay").ValueKind);
        Assert.Equal(2, set.GetProperty("weight").GetDouble());
        Assert.Equal(0, set.GetProperty("use").GetProperty("runningJobs").GetInt32());
    }

    [Fact]
    public async Task MastersSetMembersQuotas_NeverAboveTheAccounts_AndMembersReadTheirOwn()
    {
        var admin = await AdminAsync();
        var master = await factory.CreateUserAsync();
        var member = await factory.CreateUserAsync();
        var stranger = await factory.CreateUserAsync();
        await factory.JoinAsync(master, master.AccountId, member, "member");
        await admin.Client.PutAsJsonAsync($"/api/v1/admin/accounts/{master.AccountId}/job-quotas", new { maxGpus = 2, cpuHoursPerWeek = 100 });
        var path = $"/api/v1/accounts/{master.AccountId}/members/{member.Id}/job-quotas";

        var above = await (await master.Client.PutAsJsonAsync(path, new { maxGpus = 3, cpuHoursPerWeek = 101 })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["The account allows at most 2 GPUs; a member's limit cannot be higher."], above.FieldErrors("maxGpus"));
        Assert.Equal(["The account allows at most 100 CPU-hours per week; a member's limit cannot be higher."], above.FieldErrors("cpuHoursPerWeek"));
        var weight = await (await master.Client.PutAsJsonAsync(path, new { weight = 3 })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(weight.FieldErrors("weight"));

        var set = await (await master.Client.PutAsJsonAsync(path, new { maxGpus = 1, cpuHoursPerDay = 10 })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, set.GetProperty("limits").GetProperty("maxGpus").GetInt32());
        Assert.Equal(2, set.GetProperty("accountLimits").GetProperty("maxGpus").GetInt32());

        // A plain member cannot set quotas (not a master); a stranger does not see the account.
        var forbidden = await member.Client.PutAsJsonAsync(path, new { maxGpus = 2 });
        Assert.Contains(forbidden.StatusCode, new[] { HttpStatusCode.Forbidden, HttpStatusCode.NotFound });
        await (await stranger.Client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await master.Client.GetAsync($"/api/v1/accounts/{master.AccountId}/members/{stranger.Id}/job-quotas")).AssertProblemAsync(HttpStatusCode.NotFound);

        var mine = await member.Client.GetFromJsonAsync<JsonElement>("/api/v1/me/job-quotas");
        var there = mine.GetProperty("accounts").EnumerateArray().Single(a => a.GetProperty("accountId").GetGuid() == master.AccountId);
        Assert.Equal(1, there.GetProperty("effective").GetProperty("maxGpus").GetInt32());
        Assert.Equal(10, there.GetProperty("effective").GetProperty("cpuHoursPerDay").GetDouble());
        Assert.Equal(100, there.GetProperty("effective").GetProperty("cpuHoursPerWeek").GetDouble());
        Assert.Equal(0, there.GetProperty("mine").GetProperty("runningJobs").GetInt32());

        // At submit, a job that could never start under the member's limit is refused, naming it.
        var refused = await (await member.Client.PostAsJsonAsync("/api/v1/jobs", new
        {
            accountId = master.AccountId, name = "two gpus", command = new[] { "true" }, trainers = new { count = 2, gpus = 1 },
        })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal([$"This job needs 2 GPUs at once; your limit in {AccountName(mine, master.AccountId)} (set by its masters) is 1 (MaxGpus). It would never start: ask for fewer."],
            refused.FieldErrors("trainers.gpus"));
    }

    private static string AccountName(JsonElement mine, Guid accountId) =>
        mine.GetProperty("accounts").EnumerateArray().Single(a => a.GetProperty("accountId").GetGuid() == accountId).GetProperty("accountName").GetString()!;

    [Fact]
    public async Task Preview_SaysStartNow_WaitWithTheBudgetReason_OrFieldErrors()
    {
        var admin = await AdminAsync();
        var user = await factory.CreateUserAsync();
        var body = new { name = "preview", command = new[] { "true" }, trainers = new { count = 1, cpus = 1, gpus = 1 } };

        var now = await (await user.Client.PostAsJsonAsync("/api/v1/jobs/preview", body)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(now.GetProperty("wouldStartNow").GetBoolean());
        Assert.Equal("Would start now on node node-q", now.GetProperty("message").GetString());

        // 8 GPU-hours recorded today against a budget of 8: the job would wait until midnight UTC.
        await admin.Client.PutAsJsonAsync($"/api/v1/admin/accounts/{user.AccountId}/job-quotas", new { gpuHoursPerDay = 8 });
        var today = new DateTimeOffset(DateTimeOffset.UtcNow.UtcDateTime.Date, TimeSpan.Zero);
        await factory.WithDbAsync(async db =>
        {
            db.UsageRecords.Add(new UsageRecord
            {
                WorkloadKind = WorkloadKind.Job, WorkloadId = Guid.NewGuid(), Hour = today, AccountId = user.AccountId, UserId = user.Id, CpuSeconds = 8 * 3600, GpuSeconds = 8 * 3600,
            });
            return await db.SaveChangesAsync();
        });
        var wait = await (await user.Client.PostAsJsonAsync("/api/v1/jobs/preview", body)).Content.ReadFromJsonAsync<JsonElement>();
        var reset = today.AddDays(1).UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        Assert.False(wait.GetProperty("wouldStartNow").GetBoolean());
        Assert.False(wait.GetProperty("never").GetBoolean());
        Assert.Equal($"waiting: the account's GPU-hours for today are spent (8 of 8 h); they reset {reset}", wait.GetProperty("reason").GetString());
        Assert.Equal($"Would wait: the account's GPU-hours for today are spent (8 of 8 h); they reset {reset} — position 1, about {reset}",
            wait.GetProperty("message").GetString());
        Assert.Equal(1, wait.GetProperty("position").GetInt32());

        // Without GPUs the budget does not hold it.
        var cpuOnly = await (await user.Client.PostAsJsonAsync("/api/v1/jobs/preview", new { name = "cpu", command = new[] { "true" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(cpuOnly.GetProperty("wouldStartNow").GetBoolean());

        // Invalid as at submit: the same field errors; and nothing was written by previewing.
        var invalid = await (await user.Client.PostAsJsonAsync("/api/v1/jobs/preview", new { name = "", command = new[] { "nosuchprogram42" } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(invalid.FieldErrors("name"));
        Assert.StartsWith("'nosuchprogram42' is not a program", invalid.FieldErrors("command")[0]);
        var tooBig = await (await user.Client.PostAsJsonAsync("/api/v1/jobs/preview", new { name = "big", command = new[] { "true" }, trainers = new { gpus = 3 } }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["No node has 3 GPUs: the most one has is 2."], tooBig.FieldErrors("trainers.gpus"));
        Assert.Equal(0, await factory.WithDbAsync(db => db.Jobs.CountAsync(j => j.OwnerUserId == user.Id)));
    }
}
