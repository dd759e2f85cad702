using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Platform.Api.Live;
using Platform.Core.Accounts;
using Platform.Core.Metrics;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>
/// The runs list follows the user's runs live ("RunsChanged" through the hub, the list redrawn by js/runs.js), only the
/// runs each watcher may see, coalesced; and the jobs list picks runs to compare. The hub with Microsoft's .NET client,
/// the pages in Debian's Chromium, both through Web's front door to the Api and PostgreSQL.
/// </summary>
public sealed class RunListLiveTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);
    private static readonly LocatorAssertionsToHaveCountOptions PatientCount = new() { Timeout = 20_000 };
    private static readonly LocatorAssertionsToHaveTextOptions PatientText = new() { Timeout = 20_000 };
    private readonly MetricWriter writer = new(live.ConnectionString);

    [Fact]
    public async Task TheRunsList_HearsOfRunsItsUserMaySee_Created_GrowingFinishedDeleted_AtMostTwiceASecond()
    {
        var alice = await live.NewPersonAsync("alice");
        var bob = await live.NewPersonAsync("bob");
        var mallory = await live.NewPersonAsync("mallory");
        await using (var db = DatabaseMigrator.CreateContext(live.ConnectionString))
        {
            // Bob is a master of Alice's account too: its runs are his to see in the account scope.
            db.Memberships.Add(new Membership { AccountId = alice.AccountId, UserId = bob.Id, Role = AccountRole.Master, JoinedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }

        await using var aliceList = await ListClient.ConnectAsync(live.Web.Address, alice);
        await using var bobAccount = await ListClient.ConnectAsync(live.Web.Address, bob);
        await using var bobMine = await ListClient.ConnectAsync(live.Web.Address, bob);
        await using var malloryList = await ListClient.ConnectAsync(live.Web.Address, mallory);
        await aliceList.WatchAsync(null);
        await bobAccount.WatchAsync("account");
        await bobMine.WatchAsync(null);
        await malloryList.WatchAsync(null);

        // Created (RunService notifies 'runs'): the owner and the account's master in the account scope hear it.
        var created = await live.WithApiAsync(sp => sp.GetRequiredService<RunService>().CreateAsync(alice.Id, null, null, new CreateRunRequest("listed", null)));
        var run = created.Value.Run.Id;
        await aliceList.WaitForAsync(run, 0);
        await bobAccount.WaitForAsync(run, 0);

        // Growing: 40 batches as fast as they commit reach the list as a handful of messages (one per 500 ms at most).
        var before = aliceList.Count;
        var started = DateTime.UtcNow;
        for (var b = 0; b < 40; b++)
        {
            await writer.IngestAsync(live.Api.Services, run, ["loss"], b * 10, 10);
        }

        var ingesting = DateTime.UtcNow - started;
        await aliceList.WaitForAsync(run, before);
        await Task.Delay(RunListLive.Interval * 2);
        var messages = aliceList.Count - before;
        Assert.InRange(messages, 1, (int)(ingesting / RunListLive.Interval) + 3);
        Assert.All(aliceList.Since(before), ids => Assert.Equal([run], ids));

        // Finished.
        before = aliceList.Count;
        Assert.True((await live.WithApiAsync(sp => sp.GetRequiredService<RunService>().FinishAsync(alice.Id, null, run))).IsSuccess);
        await aliceList.WaitForAsync(run, before);

        // Deleted: told to the pages that showed it (a page naming a run its user may not see is not told of it).
        await aliceList.WatchAsync(null, run);
        await malloryList.WatchAsync(null, run);
        before = aliceList.Count;
        var bobBefore = bobAccount.Count;
        Assert.True((await live.WithApiAsync(sp => sp.GetRequiredService<RunService>().DeleteAsync(alice.Id, run))).IsSuccess);
        await aliceList.WaitForAsync(run, before);
        await Task.Delay(RunListLive.Interval * 2);
        Assert.Equal(bobBefore, bobAccount.Count);

        // Unwatched: nothing more.
        before = aliceList.Count;
        var other = await live.WithApiAsync(sp => sp.GetRequiredService<RunService>().CreateAsync(alice.Id, null, null, new CreateRunRequest("after", null)));
        await aliceList.WaitForAsync(other.Value.Run.Id, before);
        await aliceList.Connection.InvokeAsync("UnsubscribeRuns");
        before = aliceList.Count;
        bobBefore = bobAccount.Count;
        await writer.IngestAsync(live.Api.Services, other.Value.Run.Id, ["loss"], 0, 5);
        await bobAccount.WaitForAsync(other.Value.Run.Id, bobBefore);
        await Task.Delay(RunListLive.Interval * 2);
        Assert.Equal(before, aliceList.Count);

        // Mallory and Bob's own scope never heard of Alice's runs.
        Assert.Equal(0, malloryList.Count);
        Assert.Equal(0, bobMine.Count);
    }

    [Fact]
    public async Task TheRunsPage_ShowsNewRuns_TheirPoints_AndTheirEnd_WithoutReload_KeepingPicks()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var first = await s.NewRunAsync("first");
        await s.PostPointsAsync(first, Points(0, 10));

        await s.Page.GotoAsync($"{s.Url}/Runs");
        var list = s.Page.Locator("[data-runs-live]");
        await Assertions.Expect(list).ToHaveAttributeAsync("data-watched", new Regex("^[1-9]"), new() { Timeout = 20_000 });
        await s.Page.EvaluateAsync("() => { window.__sameDocument = true; }");
        await s.Page.Locator($"tr.run[data-run-id='{first}'] [data-run-pick]").CheckAsync();

        // A new run appears, at the top (newest activity first).
        var second = await s.NewRunAsync("second");
        await Assertions.Expect(s.Page.Locator($"tr.run[data-run-id='{second}']")).ToHaveCountAsync(1, PatientCount);
        Assert.Equal(second.ToString(), await s.Page.Locator("tr.run").First.GetAttributeAsync("data-run-id"));

        // Points logged to the first: its count grows; 20 batches in a row are drawn a few times, not 20.
        var redrawn = int.Parse((await list.GetAttributeAsync("data-redrawn"))!);
        var started = DateTime.UtcNow;
        for (var b = 1; b <= 20; b++)
        {
            await s.PostPointsAsync(first, Points(b * 10, 10));
        }

        var posting = DateTime.UtcNow - started;
        await Assertions.Expect(s.Page.Locator($"tr.run[data-run-id='{first}'] .run-points")).ToHaveTextAsync("210", PatientText);
        await Task.Delay(1500);
        var redraws = int.Parse((await list.GetAttributeAsync("data-redrawn"))!) - redrawn;
        Assert.InRange(redraws, 1, (int)posting.TotalSeconds + 3);
        // The pick survived every redraw, and the compare button follows it.
        Assert.True(await s.Page.Locator($"tr.run[data-run-id='{first}'] [data-run-pick]").IsCheckedAsync());
        await Assertions.Expect(s.Page.Locator("[data-runs-picked]")).ToContainTextAsync("1 run picked");

        // Finished (the SDK's finish, or its job's end).
        Assert.Equal(200, (await s.PostAsync($"/api/v1/runs/{second}/finish", new { })).Status);
        await Assertions.Expect(s.Page.Locator($"tr.run[data-run-id='{second}'] .run-state")).ToHaveTextAsync("finished", PatientText);
        Assert.True(await s.Page.EvaluateAsync<bool>("() => window.__sameDocument === true"), "the page reloaded");

        // Another user's run is never drawn into this list.
        var stranger = await live.NewPersonAsync("stranger");
        var theirs = await writer.CreateRunAsync(stranger.Id, stranger.AccountId, "theirs");
        await writer.IngestAsync(live.Api.Services, theirs, ["loss"], 0, 5);
        await Task.Delay(1500);
        await Assertions.Expect(s.Page.Locator($"tr.run[data-run-id='{theirs}']")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task TheJobsList_PicksRunsToCompare()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var jobs = new JobLogWriter(live);
        var a = await jobs.SubmitAsync(s.UserId, s.AccountId);
        var b = await jobs.SubmitAsync(s.UserId, s.AccountId);
        var silent = await jobs.SubmitAsync(s.UserId, s.AccountId);
        var runA = await s.NewRunAsync(null, a);
        var runB = await s.NewRunAsync(null, b);
        await s.PostPointsAsync(runA, Points(0, 30));
        await s.PostPointsAsync(runB, Points(0, 20));

        await s.Page.GotoAsync($"{s.Url}/Jobs");
        Assert.Equal(runA.ToString(), await s.Page.Locator($"tr.job[data-job-id='{a}'] [data-run-pick]").GetAttributeAsync("value"));
        Assert.Equal(runB.ToString(), await s.Page.Locator($"tr.job[data-job-id='{b}'] [data-run-pick]").GetAttributeAsync("value"));
        await Assertions.Expect(s.Page.Locator($"tr.job[data-job-id='{silent}'] [data-run-pick]")).ToHaveCountAsync(0);
        var compare = s.Page.GetByRole(AriaRole.Button, new() { Name = "Compare runs" });
        await Assertions.Expect(compare).ToBeDisabledAsync();

        await s.Page.Locator($"tr.job[data-job-id='{a}'] [data-run-pick]").CheckAsync();
        await s.Page.Locator($"tr.job[data-job-id='{b}'] [data-run-pick]").CheckAsync();
        await Assertions.Expect(s.Page.Locator("[data-runs-picked]")).ToHaveTextAsync("2 runs picked.");
        await compare.ClickAsync();
        await s.Page.WaitForURLAsync(new Regex("/Runs/Compare\\?ids="));
        var query = new Uri(s.Page.Url).Query;
        Assert.Contains($"ids={runA}", query);
        Assert.Contains($"ids={runB}", query);

        var board = s.Page.Locator("[data-board]");
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-ready", "true", new() { Timeout = 20_000 });
        await Assertions.Expect(board).ToHaveAttributeAsync("data-board-points", "50", new() { Timeout = 20_000 });
        var lengths = await s.Page.Locator(".board-chart[data-title='loss']").EvaluateAsync<int[]>("d => d.data.filter((t, i) => i % 5 === 2).map(t => t.x.length)");
        Assert.Equal([20, 30], lengths.Order());

        // Somebody else's jobs list offers nothing of these.
        var other = await live.NewPersonAsync("Other");
        var theirs = await other.Http.GetStringAsync("/Jobs");
        Assert.DoesNotContain(runA.ToString(), theirs);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"/Runs/Compare?ids={runA}&ids={runB}")).StatusCode);
    }

    [Fact]
    public async Task TheJobsList_OffersTheRunOfAJobThatBeginsToLog_WithoutReload()
    {
        await using var s = await BrowserSession.StartAsync(live);
        var jobs = new JobLogWriter(live);
        var job = await jobs.SubmitAsync(s.UserId, s.AccountId);
        var other = await jobs.SubmitAsync(s.UserId, s.AccountId);

        await s.Page.GotoAsync($"{s.Url}/Jobs");
        var form = s.Page.Locator("[data-jobs-runs]");
        await Assertions.Expect(form).ToHaveAttributeAsync("data-watched", new Regex("^[1-9]"), new() { Timeout = 20_000 });
        await Assertions.Expect(s.Page.Locator("[data-runs-compare-bar]")).ToBeHiddenAsync();
        await Assertions.Expect(s.Page.Locator("[data-run-pick]")).ToHaveCountAsync(0);

        // A notebook's run (no job) is no job's pick; the job's script then starts its run and logs.
        var notebook = await s.NewRunAsync("notebook", null);
        await s.PostPointsAsync(notebook, Points(0, 5));
        var run = await s.NewRunAsync(null, job);
        await s.PostPointsAsync(run, Points(0, 10));

        var pick = s.Page.Locator($"tr.job[data-job-id='{job}'] [data-run-pick]");
        await Assertions.Expect(pick).ToHaveAttributeAsync("value", run.ToString(), new() { Timeout = 20_000 });
        await Assertions.Expect(s.Page.Locator($"tr.job[data-job-id='{other}'] [data-run-pick]")).ToHaveCountAsync(0);
        await Assertions.Expect(s.Page.Locator("[data-runs-compare-bar]")).ToBeVisibleAsync();
        await Assertions.Expect(s.Page.Locator($"[data-run-pick][value='{notebook}']")).ToHaveCountAsync(0);
        await pick.CheckAsync();
        await Assertions.Expect(s.Page.Locator("[data-runs-picked]")).ToHaveTextAsync("1 run picked (one run opens on its own).");
        await Assertions.Expect(s.Page.GetByRole(AriaRole.Button, new() { Name = "Compare runs" })).ToBeEnabledAsync();

        // More points of the same runs add nothing and keep the pick.
        await s.PostPointsAsync(run, Points(10, 10));
        await s.PostPointsAsync(notebook, Points(5, 5));
        await Task.Delay(1500);
        await Assertions.Expect(form).ToHaveAttributeAsync("data-picks-added", "1");
        await Assertions.Expect(pick).ToBeCheckedAsync();
    }

    private static List<object> Points(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(step => (object)new { name = "loss", step, value = 1.0 / (step + 1) })];

    /// <summary>A runs list page as the hub sees it: SubscribeRuns, and every "RunsChanged" in arrival order.</summary>
    private sealed class ListClient : IAsyncDisposable
    {
        private readonly Lock gate = new();
        private readonly List<Guid[]> heard = [];

        private ListClient(HubConnection connection)
        {
            Connection = connection;
            connection.On<JsonElement>("RunsChanged", message =>
            {
                lock (gate)
                {
                    heard.Add([.. message.GetProperty("runIds").EnumerateArray().Select(e => e.GetGuid())]);
                }
            });
        }

        public HubConnection Connection { get; }

        public int Count
        {
            get
            {
                lock (gate)
                {
                    return heard.Count;
                }
            }
        }

        public static async Task<ListClient> ConnectAsync(Uri web, Person person)
        {
            var (connection, _) = HubClient.Create(web, LiveHub.Path, person.Cookies);
            var client = new ListClient(connection);
            await connection.StartAsync();
            return client;
        }

        public Task WatchAsync(string? scope, params Guid[] shown) => Connection.InvokeAsync("SubscribeRuns", scope, shown);

        public List<Guid[]> Since(int index)
        {
            lock (gate)
            {
                return heard.Skip(index).ToList();
            }
        }

        /// <summary>Waits for a message after the first <paramref name="index"/> that names the run.</summary>
        public async Task WaitForAsync(Guid runId, int index)
        {
            var deadline = DateTime.UtcNow + Soon;
            while (!Since(index).Any(ids => ids.Contains(runId)))
            {
                Assert.True(DateTime.UtcNow < deadline, $"no RunsChanged naming {runId} within {Soon.TotalSeconds} s");
                await Task.Delay(20);
            }
        }

        public ValueTask DisposeAsync() => Connection.DisposeAsync();
    }
}
