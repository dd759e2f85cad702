using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Jobs;
using Platform.Core.Notifications;

namespace Platform.Api.Tests;

public sealed class JobListApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Jobs written as the scheduler and reconciler leave them (states and times), one trainer each.</summary>
    private async Task<List<Guid>> SeedAsync(TestUser owner, int count, Func<int, string> name, Func<int, JobObserved>? state = null, Guid? accountId = null, int minuteOffset = 0)
    {
        var ids = new List<Guid>();
        await factory.WithDbAsync(async db =>
        {
            for (var i = 0; i < count; i++)
            {
                var job = new Job
                {
                    Id = Guid.CreateVersion7(),
                    AccountId = accountId ?? owner.AccountId,
                    OwnerUserId = owner.Id,
                    Name = name(i),
                    Command = ["true"],
                    Observed = state?.Invoke(i) ?? JobObserved.Succeeded,
                    Backend = "process",
                    // Pairs share a submission time so the tie-breaker (the id) is exercised.
                    SubmittedAt = Start.AddMinutes(minuteOffset + i / 2),
                    UpdatedAt = Start,
                };
                db.Jobs.Add(job);
                db.JobReplicas.Add(new JobReplica { JobId = job.Id, Role = ReplicaRole.Trainer, Index = 0, Cpus = 1, MemoryMiB = 512 });
                ids.Add(job.Id);
            }

            return await db.SaveChangesAsync();
        });
        return ids;
    }

    private static async Task<JsonElement> ListAsync(TestUser user, string query)
    {
        var response = await user.Client.GetAsync($"/api/v1/jobs?{query}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static List<Guid> Ids(JsonElement page) => page.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("id").GetGuid()).ToList();

    [Fact]
    public async Task Pages_CoverEveryJobOnce_NewestFirst_EvenWhileNewJobsArrive_AndGoBackExactly()
    {
        var user = await factory.CreateUserAsync();
        var seeded = await SeedAsync(user, 45, i => $"run-{i:D3}");
        // Newest first; within one submission time, PostgreSQL's uuid order (that of the lower-case text) decides.
        var expected = seeded.Select((id, i) => (id, i)).OrderByDescending(x => x.i / 2).ThenByDescending(x => x.id.ToString(), StringComparer.Ordinal)
            .Select(x => x.id).ToList();

        var seen = new List<Guid>();
        var pages = new List<JsonElement>();
        string? cursor = null;
        do
        {
            var page = await ListAsync(user, $"pageSize=10{(cursor is null ? "" : $"&after={cursor}")}");
            pages.Add(page);
            seen.AddRange(Ids(page));
            cursor = page.GetProperty("next").GetString();
            // Newer jobs land while someone pages: they belong before page 1 and must not shift what follows.
            await SeedAsync(user, 2, i => $"late-{pages.Count}-{i}", minuteOffset: 10_000 + pages.Count * 10);
        }
        while (cursor is not null);

        Assert.Equal(expected, seen);
        Assert.Equal(5, pages.Count);
        Assert.Equal(JsonValueKind.Null, pages[0].GetProperty("prev").ValueKind);
        Assert.Equal(JsonValueKind.Null, pages[0].GetProperty("total").ValueKind);
        Assert.True(pages[0].GetProperty("more").GetBoolean());
        Assert.False(pages[^1].GetProperty("more").GetBoolean());

        // Back from page 3 gives page 2 exactly.
        var back = await ListAsync(user, $"pageSize=10&before={pages[2].GetProperty("prev").GetString()}");
        Assert.Equal(Ids(pages[1]), Ids(back));
        Assert.Equal(pages[1].GetProperty("next").GetString(), back.GetProperty("next").GetString());

        var item = pages[0].GetProperty("items")[0];
        Assert.Equal(1, item.GetProperty("trainers").GetInt32());
        Assert.Equal(512, item.GetProperty("memoryMiB").GetInt32());
        Assert.Equal(JsonValueKind.Null, item.GetProperty("replicas").ValueKind);
    }

    [Fact]
    public async Task Filters_ByStatus_TimeRange_AndName_SortByName_BothWays()
    {
        var user = await factory.CreateUserAsync();
        var states = new[] { JobObserved.Queued, JobObserved.Running, JobObserved.Failed, JobObserved.Succeeded };
        await SeedAsync(user, 20, i => i % 5 == 0 ? $"resnet_50%-{i:D2}" : $"mnist-{i:D2}", i => states[i % 4]);

        var running = await ListAsync(user, "status=running");
        Assert.Equal(5, running.GetProperty("total").GetInt32());
        Assert.All(running.GetProperty("items").EnumerateArray(), j => Assert.Equal("running", j.GetProperty("state").GetString()));

        var several = await ListAsync(user, "status=queued,failed");
        Assert.Equal(10, several.GetProperty("total").GetInt32());
        Assert.Equal(10, (await ListAsync(user, "status=active")).GetProperty("total").GetInt32());

        // Minutes 2 to 4 hold jobs 4..9 (two per minute).
        var window = await ListAsync(user, $"from={Uri.EscapeDataString(Start.AddMinutes(2).ToString("O"))}&to={Uri.EscapeDataString(Start.AddMinutes(5).ToString("O"))}");
        Assert.Equal(6, window.GetProperty("total").GetInt32());

        // Case-insensitive, and % or _ in the search are literal.
        var named = await ListAsync(user, "q=RESNET_50%25");
        Assert.Equal(["resnet_50%-00", "resnet_50%-05", "resnet_50%-10", "resnet_50%-15"],
            named.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("name").GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(0, (await ListAsync(user, "q=net_5x")).GetProperty("total").GetInt32());

        var byName = await ListAsync(user, "sort=name&pageSize=7");
        var firstNames = byName.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("name").GetString()!).ToList();
        var secondNames = (await ListAsync(user, $"sort=name&pageSize=7&after={byName.GetProperty("next").GetString()}"))
            .GetProperty("items").EnumerateArray().Select(j => j.GetProperty("name").GetString()!).ToList();
        var all = firstNames.Concat(secondNames).ToList();
        Assert.Equal(14, all.Distinct().Count());
        Assert.Equal(all.Order(StringComparer.Ordinal), all);

        var descending = await ListAsync(user, "sort=name&order=desc&pageSize=3");
        Assert.Equal(["resnet_50%-15", "resnet_50%-10", "resnet_50%-05"], descending.GetProperty("items").EnumerateArray().Select(j => j.GetProperty("name").GetString()));
        var oldest = await ListAsync(user, "order=asc&pageSize=1");
        Assert.Equal("resnet_50%-00", oldest.GetProperty("items")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task BadValues_AreFieldErrors()
    {
        var user = await factory.CreateUserAsync();
        var problem = await (await user.Client.GetAsync("/api/v1/jobs?status=running,asleep&sort=size&order=up&scope=everyone&pageSize=500&after=xyz"))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("'asleep' is not a job state", problem.FieldErrors("status")[0]);
        Assert.Equal(["Sort by 'submitted' or 'name'."], problem.FieldErrors("sort"));
        Assert.Equal(["The order is 'desc' or 'asc'."], problem.FieldErrors("order"));
        Assert.NotEmpty(problem.FieldErrors("scope"));
        Assert.Equal(["A page holds 1 to 200 jobs."], problem.FieldErrors("pageSize"));
        Assert.Contains("not one the list gave", problem.FieldErrors("after")[0]);

        var times = await (await user.Client.GetAsync("/api/v1/jobs?from=yesterday&pageSize=ten")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("is not a date and time", times.FieldErrors("from")[0]);
        Assert.NotEmpty(times.FieldErrors("pageSize"));
        var range = await (await user.Client.GetAsync($"/api/v1/jobs?from={Start:O}&to={Start.AddDays(-1):O}".Replace("+", "%2B"))).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(range.FieldErrors("to"));

        var page = await ListAsync(user, "pageSize=1");
        await SeedAsync(user, 3, i => $"j{i}");
        var first = await ListAsync(user, "pageSize=1");
        var otherSort = await (await user.Client.GetAsync($"/api/v1/jobs?sort=name&after={first.GetProperty("next").GetString()}")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("another sort order", otherSort.FieldErrors("after")[0]);
        Assert.Equal(0, page.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task OthersJobsAreInvisible_AndMastersSeeTheirAccountsJobs_WithScopeAccount()
    {
        var master = await factory.CreateUserAsync("master");
        var member = await factory.CreateUserAsync("member");
        var stranger = await factory.CreateUserAsync("stranger");
        await factory.JoinAsync(master, master.AccountId, member, "member");
        var mastersOwn = await SeedAsync(master, 2, i => $"master-{i}");
        var membersInAccount = await SeedAsync(member, 3, i => $"member-{i}", accountId: master.AccountId);
        var membersPersonal = await SeedAsync(member, 1, i => "personal");
        var strangers = await SeedAsync(stranger, 2, i => $"stranger-{i}");

        Assert.Equal(mastersOwn.Order(), Ids(await ListAsync(master, "")).Order());
        var account = Ids(await ListAsync(master, "scope=account"));
        Assert.Equal(mastersOwn.Concat(membersInAccount).Order(), account.Order());
        Assert.Equal("master", (await ListAsync(master, "scope=account&q=member-0")).GetProperty("items")[0].GetProperty("access").GetString());

        Assert.Equal(membersInAccount.Concat(membersPersonal).Order(), Ids(await ListAsync(member, "")).Order());
        Assert.Equal(membersPersonal, Ids(await ListAsync(member, $"accountId={member.AccountId}")));
        // A member is master of nothing here but their own personal account.
        Assert.Equal(membersPersonal, Ids(await ListAsync(member, "scope=account")));
        var notMaster = await (await member.Client.GetAsync($"/api/v1/jobs?scope=account&accountId={master.AccountId}")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["You are not a master of this account."], notMaster.FieldErrors("accountId"));

        Assert.Equal(strangers.Order(), Ids(await ListAsync(stranger, "scope=account")).Order());

        // A master of two accounts: both walked in order and merged, paged without gaps or repeats.
        var created = await master.Client.PostAsJsonAsync("/api/v1/accounts", new { name = "second team" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var second = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var inSecond = await SeedAsync(master, 3, i => $"second-{i}", accountId: second, minuteOffset: 1);
        var everything = mastersOwn.Concat(membersInAccount).Concat(inSecond).ToList();
        var pages = new List<Guid>();
        string? cursor = null;
        do
        {
            var page = await ListAsync(master, $"scope=account&pageSize=3{(cursor is null ? "" : $"&after={cursor}")}");
            pages.AddRange(Ids(page));
            cursor = page.GetProperty("next").GetString();
        }
        while (cursor is not null);
        Assert.Equal(everything.Order(), pages.Order());
        var times = await factory.WithDbAsync(db => db.Jobs.Where(j => everything.Contains(j.Id)).ToDictionaryAsync(j => j.Id, j => j.SubmittedAt));
        Assert.Equal(pages.OrderByDescending(id => times[id]).ThenByDescending(id => id.ToString(), StringComparer.Ordinal), pages);
        var foreign = await (await stranger.Client.GetAsync($"/api/v1/jobs?accountId={master.AccountId}")).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(foreign.FieldErrors("accountId"));
    }

    [Fact]
    public async Task Notifications_AreMailed_OnlyToUsersWhoOptIn_ThroughThePreferencesApi()
    {
        var optedIn = await factory.CreateUserAsync();
        var other = await factory.CreateUserAsync();
        Assert.False((await optedIn.Client.GetFromJsonAsync<JsonElement>("/api/v1/me/preferences")).GetProperty("notifyByEmail").GetBoolean());
        var put = await optedIn.Client.PutAsJsonAsync("/api/v1/me/preferences", new { notifyByEmail = true });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.True((await optedIn.Client.GetFromJsonAsync<JsonElement>("/api/v1/me/preferences")).GetProperty("notifyByEmail").GetBoolean());
        var missing = await (await other.Client.PutAsJsonAsync("/api/v1/me/preferences", new { })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(missing.FieldErrors("notifyByEmail"));

        var jobId = Guid.NewGuid();
        using (var scope = factory.Services.CreateScope())
        {
            var notifications = scope.ServiceProvider.GetRequiredService<NotificationService>();
            await notifications.AddAsync(optedIn.Id, "job.failed", "mnist failed", "trainer-0 exited with code 2", $"/Jobs/{jobId}");
            await notifications.AddAsync(other.Id, "job.failed", "resnet failed", "trainer-0 exited with code 2", $"/Jobs/{jobId}");
        }

        var mails = await factory.WithDbAsync(db => db.Outbox.Where(m => m.To == optedIn.Email || m.To == other.Email).ToListAsync());
        var mail = Assert.Single(mails);
        Assert.Equal(optedIn.Email, mail.To);
        Assert.Equal("mnist failed", mail.Subject);
        Assert.Contains($"http://platform.test/Jobs/{jobId}", mail.TextBody);
        Assert.Contains("trainer-0 exited with code 2", mail.TextBody);

        var off = await optedIn.Client.PutAsJsonAsync("/api/v1/me/preferences", new { notifyByEmail = false });
        Assert.Equal(HttpStatusCode.OK, off.StatusCode);
        using (var scope = factory.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<NotificationService>().AddAsync(optedIn.Id, "job.started", "again", "started");
        }

        Assert.Equal(1, await factory.WithDbAsync(db => db.Outbox.CountAsync(m => m.To == optedIn.Email)));
    }
}
