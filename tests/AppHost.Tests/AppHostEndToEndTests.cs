using System.Net;
using Platform.AppHost.Processes;
using Platform.Tests.Fixtures;
using Xunit.Abstractions;

namespace Platform.AppHost.Tests;

/// <summary>
/// The real AppHost over its real children: PostgreSQL from the local binaries, Api, Workers and Web from their
/// build output. Each test owns a fresh data folder under the temp directory.
/// </summary>
public sealed class AppHostEndToEndTests(ITestOutputHelper log) : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly string _dataDirectory = StartedPlatform.NewDataDirectory();

    [Fact]
    public async Task FirstRun_CreatesTheCluster_ServesHealth_AndSigtermStopsEverything_ThenTheNextRunReusesTheCluster()
    {
        await using (var first = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort()))
        {
            Assert.True(first.HasLine("Created a PostgreSQL"), first.Output);
            Assert.True(first.HasLine($"No users yet: open {first.Url.ToString().TrimEnd('/')}/Account/Register"), first.Output);
            await AssertHealthyAsync(first);

            Assert.Equal(0, await first.StopAsync(StopTimeout));
            Assert.Empty(first.Leftovers());
            log.WriteLine(first.Output);
        }

        await using var second = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        Assert.True(second.HasLine($"Using the existing PostgreSQL cluster in {_dataDirectory}/postgres"), second.Output);
        Assert.False(second.HasLine("Created a PostgreSQL"), second.Output);
        Assert.True(second.HasLine("Database schema is up to date."), second.Output);
        await AssertHealthyAsync(second);

        Assert.Equal(0, await second.StopAsync(StopTimeout));
        Assert.Empty(second.Leftovers());
    }

    [Fact]
    public async Task AServiceThatDies_IsReportedAndRestarted_AndWithNoRestartEverythingStops()
    {
        await using (var platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort()))
        {
            var api = platform.PidOf("api");
            Unix.Signal(api, Unix.SIGKILL);

            Assert.True(await platform.WaitForLineAsync("api is healthy again.", TimeSpan.FromSeconds(60)), platform.Output);
            Assert.True(platform.HasLine($"api (pid {api}) exited unexpectedly with code 137. Its last lines:"), platform.Output);
            Assert.NotEqual(api, platform.PidOf("api"));
            Assert.Equal(0, await platform.StopAsync(StopTimeout));
            Assert.Empty(platform.Leftovers());
        }

        await using var strict = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort(), extraArguments: ["--no-restart"]);
        Unix.Signal(strict.PidOf("workers"), Unix.SIGKILL);

        Assert.Equal(3, await strict.WaitForExitAsync(StopTimeout));
        Assert.True(strict.HasLine("workers died and --no-restart is set: stopping the platform."), strict.Output);
        Assert.Empty(strict.Leftovers());
    }

    [Fact]
    public async Task KilledAppHost_ServicesStopByThemselves_AndTheNextStartRecoversItsPostgres()
    {
        await using var killed = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        var orphanedPostgres = killed.PostgresPid;
        Assert.NotNull(orphanedPostgres);

        await killed.KillAsync();

        // The services' watchdog polls every second for the AppHost's pid.
        var services = await WaitUntilAsync(() => ServicesOf(killed).Count == 0, TimeSpan.FromSeconds(10));
        Assert.True(services, "services still running: " + string.Join("\n", ServicesOf(killed)));
        Assert.True(Unix.IsAlive(orphanedPostgres.Value), "PostgreSQL is not orphaned; nothing would be recovered");

        await using var next = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        Assert.True(next.HasLine($"PostgreSQL (pid {orphanedPostgres}) from an earlier run that did not stop cleanly"), next.Output);
        Assert.False(Unix.IsAlive(orphanedPostgres.Value));
        await AssertHealthyAsync(next);

        Assert.Equal(0, await next.StopAsync(StopTimeout));
        Assert.Empty(next.Leftovers());
    }

    [Fact]
    public async Task GivenAConnectionString_UsesThatDatabase_AndStartsNoClusterOfItsOwn()
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = await server.CreateDatabaseAsync("apphost");

        await using var platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort(),
            new Dictionary<string, string> { ["ConnectionStrings__platformdb"] = connectionString });

        Assert.True(platform.HasLine("Using the PostgreSQL given in ConnectionStrings:platformdb"), platform.Output);
        Assert.True(platform.HasLine(" migration(s): "), platform.Output);
        Assert.False(Directory.Exists(Path.Combine(_dataDirectory, "postgres")));
        Assert.Null(platform.PostgresPid);
        await AssertHealthyAsync(platform);
        Assert.Equal(0, await platform.StopAsync(StopTimeout));
        Assert.Empty(platform.Leftovers());
    }

    [Fact]
    public async Task UnreachableDatabase_FailsWithTheMigrationError_NotAStackTrace()
    {
        var (exitCode, output) = await StartedPlatform.RunToEndAsync(["--data-dir", _dataDirectory, "--port", "0"], TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["ConnectionStrings__platformdb"] = $"Host=127.0.0.1;Port={StartedPlatform.FreePort()};Database=x;Username=u;Password=p;Timeout=3" });

        Assert.Equal(1, exitCode);
        Assert.Contains("Applying the database migrations failed: ", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task FixedPortTaken_FailsWithAMessage_NotAStackTrace()
    {
        using var holder = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exitCode, output) = await StartedPlatform.RunToEndAsync(["--data-dir", _dataDirectory, "--port", $"{port}"], TimeSpan.FromSeconds(30));

        Assert.Equal(1, exitCode);
        Assert.Contains($"Port {port} on 127.0.0.1 for Web is taken", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Help_PrintsTheOptions_AndAnUnknownOptionIsAUsageError()
    {
        var (helpExit, help) = await StartedPlatform.RunToEndAsync(["--help"], TimeSpan.FromSeconds(30));
        var (wrongExit, wrong) = await StartedPlatform.RunToEndAsync(["--colour"], TimeSpan.FromSeconds(30));

        Assert.Equal(0, helpExit);
        Assert.Contains("--data-dir DIR", help);
        Assert.Equal(2, wrongExit);
        Assert.Contains("Unknown option '--colour'.", wrong);
    }

    private static async Task AssertHealthyAsync(StartedPlatform platform)
    {
        using var response = await Http.GetAsync(new Uri(platform.Url, "/health"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static List<string> ServicesOf(StartedPlatform platform) =>
        StartedPlatform.ScanProcesses("\0no data dir\0", platform.Pid);

    private static async Task<bool> WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }

        return true;
    }

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }
}
