using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.AccessKeys;

namespace Platform.Web.Tests.Live;

/// <summary>
/// From the ingestion API, and from the Python SDK's <c>log_metric</c> in a real script, to Microsoft's .NET SignalR
/// client subscribed to the run: every point, in order, none twice (a retried batch included).
/// </summary>
public sealed class MetricsEndToEndTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    private static long[] Range(long from, long count) => Enumerable.Range(0, (int)count).Select(i => from + i).ToArray();

    [Fact]
    public async Task PointsPostedToTheApi_ReachASubscribedBoard_AndARetriedBatchNothingTwice()
    {
        var owner = await live.NewPersonAsync("poster");
        using var created = await owner.Http.PostAsJsonAsync("/api/v1/runs", new { name = "posted" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var run = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await using var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
        await board.SubscribeAsync(run);

        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        for (var b = 0; b < 20; b++)
        {
            var points = Range(b * 100, 100).SelectMany(s => new object[]
            {
                new { name = "loss", step = s, value = s == 3 ? (object)"NaN" : 1.0 / (s + 1), at = at + (s / 1000.0) },
                new { name = "accuracy", step = s, value = (object)(s / 2000.0), at = at + (s / 1000.0) },
            }).ToArray();
            using var posted = await owner.Http.PostAsJsonAsync($"/api/v1/runs/{run}/points", new { points });
            Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
            if (b == 10)
            {
                // The SDK retrying a batch whose answer it never got: nothing is inserted, nothing is published.
                using var retried = await owner.Http.PostAsJsonAsync($"/api/v1/runs/{run}/points", new { points });
                Assert.Equal(200, (await retried.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicates").GetInt32());
            }
        }

        await board.WaitForAsync(1999, Soon, "loss", "accuracy");
        Assert.Equal(Range(0, 2000), board.Steps("loss"));
        Assert.Equal(Range(0, 2000), board.Steps("accuracy"));
        Assert.Equal(0, board.OutOfOrder);
        Assert.True(double.IsNaN(board.Values("loss")[3]));
        Assert.Equal(0.2, board.Values("loss")[4]);
    }

    [Fact]
    public async Task ThePythonSdk_LogMetricInARealScript_ReachesTheDotNetClient_EveryPoint()
    {
        var owner = await live.NewPersonAsync("scripter");
        var key = await live.WithApiAsync(async sp =>
            (await sp.GetRequiredService<AccessKeyService>().CreateAsync(owner.Id, new CreateAccessKeyRequest("sdk", "full", null))).Value!.Key);
        const string script = """
            import sys
            from platformsdk import init_run, log_metric, log_metrics
            run = init_run(name="script")
            run.log_metric("loss", 1.0, step=0)
            assert run.flush(timeout=30), "the first point was not accepted"
            print(run.id, flush=True)
            sys.stdin.readline()
            for step in range(1, 3000):
                run.log_metrics({"loss": 1.0 / (step + 1), "accuracy": step / 3000}, step=step)
                if step % 100 == 0:
                    import time; time.sleep(0.01)
            """;
        using var python = Process.Start(new ProcessStartInfo
        {
            FileName = "python3",
            ArgumentList = { "-c", script },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment =
            {
                ["PYTHONPATH"] = Path.Combine(RepositoryRoot(), "Notebook", "sdk"),
                ["PLATFORM_API_URL"] = live.Web.Address.ToString().TrimEnd('/'),
                ["PLATFORM_API_KEY"] = key,
                ["HOME"] = Path.GetTempPath(),
            },
        })!;
        var stderr = python.StandardError.ReadToEndAsync();
        var line = await python.StandardOutput.ReadLineAsync().WaitAsync(Soon);
        Assert.True(Guid.TryParse(line, out var run), $"no run id from the script: {line} {(python.HasExited ? await stderr : "")}");

        await using var board = await BoardClient.ConnectAsync(live.Web.Address, owner.Cookies);
        var catchUp = await board.SubscribeAsync(run);
        Assert.Equal([0L], board.Steps("loss"));
        Assert.True(catchUp.GetProperty("complete").GetBoolean());
        await python.StandardInput.WriteLineAsync("go");
        await python.StandardInput.FlushAsync();
        await python.WaitForExitAsync().WaitAsync(Soon);
        Assert.True(python.ExitCode == 0, await stderr);

        await board.WaitForAsync(2999, Soon, "loss", "accuracy");
        Assert.Equal(Range(0, 3000), board.Steps("loss"));
        Assert.Equal(Range(1, 2999), board.Steps("accuracy"));
        Assert.Equal(0, board.OutOfOrder);
        Assert.True(board.LiveMessages < 3000, $"{board.LiveMessages} messages for 3,000 steps: not coalesced");
        Assert.Equal(1.0 / 3000, board.Values("loss")[2999], 12);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !Directory.Exists(Path.Combine(directory.FullName, "Notebook", "sdk", "platformsdk")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("The repository root (with Notebook/sdk) was not found.");
    }
}
