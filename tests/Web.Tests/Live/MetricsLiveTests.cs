using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Live;

namespace Platform.Web.Tests.Live;

/// <summary>
/// Live metrics on Microsoft's .NET SignalR client (HubConnection over <see cref="WebSocketConnectionFactory"/>): people
/// signed in through Web, the hub through the front door (or straight at a second Api process), points written to
/// PostgreSQL and published as ingestion publishes them (<see cref="MetricWriter"/>), real NOTIFY between processes.
/// </summary>
public sealed class MetricsLiveTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(20);
    private readonly MetricWriter writer = new(live.ConnectionString);

    private static long[] Range(long from, long count) => Enumerable.Range(0, (int)count).Select(i => from + i).ToArray();

    [Fact]
    public async Task ASubscribedBoard_GetsTheRunSoFar_ThenEveryPointInOrder_CoalescedPerFrame()
    {
        var owner = await live.NewPersonAsync("trainer");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        await writer.IngestAsync(live.Api.Services, run, ["Loss", "accuracy"], 0, 10);
        await using var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);

        var catchUp = await board.SubscribeAsync(run);
        Assert.True(catchUp.GetProperty("complete").GetBoolean());
        Assert.Equal(run, catchUp.GetProperty("runId").GetGuid());
        // Series names are kept as logged (no camel-casing of dictionary keys).
        Assert.Equal(Range(0, 10), board.Steps("Loss"));
        Assert.Equal(Range(0, 10), board.Steps("accuracy"));

        // 2,000 points per series in 40 batches, as fast as they commit; values include NaN and the infinities.
        for (var b = 0; b < 40; b++)
        {
            await writer.IngestAsync(live.Api.Services, run, ["Loss", "accuracy"], 10 + (b * 50), 50,
                s => s switch { 100 => double.NaN, 101 => double.PositiveInfinity, 102 => double.NegativeInfinity, _ => s / 10.0 });
        }

        await board.WaitForAsync(2009, Soon, "Loss", "accuracy");
        Assert.Equal(Range(0, 2010), board.Steps("Loss"));
        Assert.Equal(Range(0, 2010), board.Steps("accuracy"));
        Assert.Equal(0, board.OutOfOrder);
        var values = board.Values("Loss");
        Assert.True(double.IsNaN(values[100]));
        Assert.Equal(double.PositiveInfinity, values[101]);
        Assert.Equal(double.NegativeInfinity, values[102]);
        Assert.Equal(10.3, values[103]);
        // Coalesced: 40 batches reached the board in fewer messages than batches whenever they came faster than a frame.
        Assert.InRange(board.LiveMessages, 1, 40);

        // Unsubscribed: nothing more comes.
        await board.Connection.InvokeAsync("UnsubscribeRun", run);
        await writer.IngestAsync(live.Api.Services, run, ["Loss"], 2010, 5);
        await Task.Delay(500);
        Assert.Equal(2009, board.LastStep("Loss"));
    }

    [Fact]
    public async Task AnotherAccountsBoard_IsToldRunNotFound_AndGetsNothing()
    {
        var owner = await live.NewPersonAsync("alice");
        var stranger = await live.NewPersonAsync("mallory");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 0, 5);
        await using var ownerBoard = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
        await using var strangerBoard = await BoardClient.ConnectAsync(live.Web.Address, stranger.Cookies);
        await ownerBoard.SubscribeAsync(run);

        var refused = await Assert.ThrowsAsync<HubException>(() => strangerBoard.SubscribeAsync(run));
        Assert.Contains("Run not found.", refused.Message, StringComparison.Ordinal);
        // Nor does a run that does not exist say anything else.
        var missing = await Assert.ThrowsAsync<HubException>(() => strangerBoard.SubscribeAsync(Guid.NewGuid()));
        Assert.Contains("Run not found.", missing.Message, StringComparison.Ordinal);

        await writer.IngestAsync(live.Api.Services, run, ["loss"], 5, 20);
        await ownerBoard.WaitForAsync(24, Soon, "loss");
        await Task.Delay(300);
        Assert.Empty(strangerBoard.Steps("loss"));
        Assert.Equal(0, strangerBoard.LiveMessages);
    }

    [Fact]
    public async Task ABoardThatReconnects_CatchesUpExactly_FromTheLastStepsItSaw()
    {
        var owner = await live.NewPersonAsync("reconnecting");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        await using var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies, reconnect: true);
        await board.SubscribeAsync(run);
        await writer.IngestAsync(live.Api.Services, run, ["loss", "lr"], 0, 300);
        await board.WaitForAsync(299, Soon, "loss", "lr");

        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        board.Connection.Reconnected += _ =>
        {
            reconnected.TrySetResult();
            return Task.CompletedTask;
        };
        board.Factory.Drop();
        // While the board is away: these reach it only through the catch-up.
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 300, 200);
        await writer.IngestAsync(live.Api.Services, run, ["lr"], 300, 50);
        await reconnected.Task.WaitAsync(Soon);
        await board.WaitForAsync(499, Soon, "loss");
        await board.WaitForAsync(349, Soon, "lr");

        Assert.Equal(2, board.Factory.Connections);
        var catchUp = Assert.Single(board.CatchUps);
        Assert.True(catchUp.GetProperty("complete").GetBoolean());
        // Exactly what was missed: from the step after the last one seen, nothing before it.
        Assert.Equal(Range(300, 200), catchUp.GetProperty("series").GetProperty("loss").EnumerateArray().Select(r => r[0].GetInt64()));
        Assert.Equal(Range(300, 50), catchUp.GetProperty("series").GetProperty("lr").EnumerateArray().Select(r => r[0].GetInt64()));
        Assert.Equal(Range(0, 500), board.Steps("loss"));
        Assert.Equal(Range(0, 350), board.Steps("lr"));

        // And live again after it.
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 500, 10);
        await board.WaitForAsync(509, Soon, "loss");
        Assert.Equal(Range(0, 510), board.Steps("loss"));
    }

    [Fact]
    public async Task TheCatchUp_StopsAt20000Points_AndSaysItIsIncomplete()
    {
        var owner = await live.NewPersonAsync("long");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 0, 15_000);
        await writer.IngestAsync(live.Api.Services, run, ["acc"], 0, 6_000);
        await using var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);

        var catchUp = await board.SubscribeAsync(run);
        Assert.False(catchUp.GetProperty("complete").GetBoolean());
        var series = catchUp.GetProperty("series");
        Assert.Equal(MetricsLive.CatchUpLimit, series.EnumerateObject().Sum(s => s.Value.GetArrayLength()));

        // From step 10,000 of the loss and 5,000 of acc, 6,000 points: complete.
        await using var later = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
        var rest = await later.Connection.InvokeAsync<System.Text.Json.JsonElement>("SubscribeRun", run,
            new Dictionary<string, long> { ["loss"] = 9_999, ["acc"] = 4_999 });
        Assert.True(rest.GetProperty("complete").GetBoolean());
        Assert.Equal(Range(10_000, 5_000), rest.GetProperty("series").GetProperty("loss").EnumerateArray().Select(r => r[0].GetInt64()));
        Assert.Equal(Range(5_000, 1_000), rest.GetProperty("series").GetProperty("acc").EnumerateArray().Select(r => r[0].GetInt64()));
    }

    [Fact]
    public async Task ASecondApiProcess_DeliversPointsIngestedByTheFirst_ThroughNotify()
    {
        var owner = await live.NewPersonAsync("replicas");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        var objects = Path.Combine(Path.GetTempPath(), $"platform-live2-{Guid.NewGuid():N}");
        await using var second = ApiServer.Start(live.ConnectionString, objects);
        await second.Services.GetRequiredService<MetricsLive>().Listening.WaitAsync(Soon);
        await live.Api.Services.GetRequiredService<MetricsLive>().Listening.WaitAsync(Soon);
        // Straight at the second process, signed in by the same session cookie (one key ring for all).
        await using var board = await BoardClient.ConnectAsync(second.Address, owner.Cookies);
        await using var local = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
        await board.SubscribeAsync(run);
        await local.SubscribeAsync(run);

        // Small batches travel inside the notification; the 3,000-point one only as its step range (read from the table).
        for (var b = 0; b < 30; b++)
        {
            await writer.IngestAsync(live.Api.Services, run, ["loss", "acc"], b * 20, 20, s => s == 7 ? double.NaN : s / 10.0);
        }

        await writer.IngestAsync(live.Api.Services, run, ["loss"], 600, 3_000);
        await writer.IngestAsync(live.Api.Services, run, ["loss", "acc"], 3_600, 5);
        await board.WaitForAsync(3_604, Soon, "loss");
        await board.WaitForAsync(3_604, Soon, "acc");
        Assert.Equal(Range(0, 3_605), board.Steps("loss"));
        Assert.Equal(Range(0, 600).Concat(Range(3_600, 5)), board.Steps("acc"));
        Assert.Equal(0, board.OutOfOrder);
        Assert.True(double.IsNaN(board.Values("acc")[7]));

        // The first process served its own board in-process (and did not also deliver its own NOTIFY twice).
        await local.WaitForAsync(3_604, Soon, "loss");
        Assert.Equal(Range(0, 3_605), local.Steps("loss"));
        Assert.Equal(0, local.OutOfOrder);
        var payloads = live.Api.Services.GetRequiredService<MetricsLive>().Payloads(
            await writer.IngestAsync(live.Api.Services, run, ["loss"], 10_000, 3_000)).ToList();
        Assert.All(payloads, p => Assert.InRange(System.Text.Encoding.UTF8.GetByteCount(p), 1, MetricsLive.MaxPayloadBytes));
        Assert.Contains("\"f\":10000,\"l\":12999", Assert.Single(payloads), StringComparison.Ordinal);
        if (Directory.Exists(objects))
        {
            Directory.Delete(objects, recursive: true);
        }
    }

    [Fact]
    public async Task FiftyBoardsOnOneRun_AllGetEveryPoint()
    {
        var owner = await live.NewPersonAsync("crowd");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        var boards = new List<BoardClient>();
        try
        {
            for (var i = 0; i < 50; i++)
            {
                var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
                boards.Add(board);
                await board.SubscribeAsync(run);
            }

            for (var b = 0; b < 50; b++)
            {
                await writer.IngestAsync(live.Api.Services, run, ["loss", "acc"], b * 40, 40);
            }

            foreach (var board in boards)
            {
                await board.WaitForAsync(1_999, Soon, "loss", "acc");
                Assert.Equal(Range(0, 2_000), board.Steps("loss"));
                Assert.Equal(Range(0, 2_000), board.Steps("acc"));
                Assert.Equal(0, board.OutOfOrder);
            }
        }
        finally
        {
            foreach (var board in boards)
            {
                await board.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task NotifyRuns_BecomesRunUpdated_AndADeletedRunIsToldOnce()
    {
        var owner = await live.NewPersonAsync("updates");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        await writer.IngestAsync(live.Api.Services, run, ["loss"], 0, 3);
        await using var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
        await board.SubscribeAsync(run);
        var notify = new JobLogWriter(live);

        await using (var db = Platform.Core.Persistence.DatabaseMigrator.CreateContext(live.ConnectionString))
        {
            db.RunGraphs.Add(new Platform.Core.Metrics.RunGraph { RunId = run, Title = "Training", Series = ["loss", "acc"], Position = 0 });
            var row = await db.Runs.FindAsync(run);
            row!.State = Platform.Core.Metrics.RunState.Finished;
            row.Dropped = 12;
            await db.SaveChangesAsync();
        }

        await notify.NotifyAsync(MetricsLive.RunsChannel, run.ToString());
        var update = await WaitForUpdateAsync(board, 1);
        Assert.Equal(run, update.GetProperty("runId").GetGuid());
        Assert.Equal("finished", update.GetProperty("state").GetString());
        Assert.Equal(3, update.GetProperty("pointCount").GetInt64());
        Assert.Equal(12, update.GetProperty("dropped").GetInt64());
        Assert.False(update.GetProperty("deleted").GetBoolean());
        var graph = Assert.Single(update.GetProperty("graphs").EnumerateArray());
        Assert.Equal("Training", graph.GetProperty("title").GetString());
        Assert.Equal(["loss", "acc"], graph.GetProperty("series").EnumerateArray().Select(s => s.GetString()));

        await using (var db = Platform.Core.Persistence.DatabaseMigrator.CreateContext(live.ConnectionString))
        {
            db.Runs.Remove((await db.Runs.FindAsync(run))!);
            await db.SaveChangesAsync();
        }

        await notify.NotifyAsync(MetricsLive.RunsChannel, run.ToString());
        var deleted = await WaitForUpdateAsync(board, 2);
        Assert.True(deleted.GetProperty("deleted").GetBoolean());
        await notify.NotifyAsync(MetricsLive.RunsChannel, run.ToString());
        await Task.Delay(500);
        Assert.Equal(2, board.RunUpdates().Count);
    }

    [Fact]
    public async Task WhenMetricsLiveLosesItsListenConnection_ItListensAgain_AndTellsSubscribedBoardsToResync()
    {
        var owner = await live.NewPersonAsync("relisten");
        var run = await writer.CreateRunAsync(owner.Id, owner.AccountId);
        await using var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
        await board.SubscribeAsync(run);
        await using (var admin = new Npgsql.NpgsqlConnection(live.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new Npgsql.NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN runs'", admin);
            Assert.Equal(1L, await terminate.ExecuteScalarAsync());
        }

        using (var until = new CancellationTokenSource(Soon))
        {
            while (board.Resyncs == 0)
            {
                await Task.Delay(20, until.Token);
            }
        }

        // Listening again: NOTIFY runs reaches the board.
        await new JobLogWriter(live).NotifyAsync(MetricsLive.RunsChannel, run.ToString());
        Assert.Equal("open", (await WaitForUpdateAsync(board, 1)).GetProperty("state").GetString());
    }

    private static async Task<System.Text.Json.JsonElement> WaitForUpdateAsync(BoardClient board, int count)
    {
        using var until = new CancellationTokenSource(Soon);
        while (board.RunUpdates().Count < count)
        {
            await Task.Delay(20, until.Token);
        }

        return board.RunUpdates()[count - 1];
    }
}
