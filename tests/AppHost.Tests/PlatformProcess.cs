using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Tests;

/// <summary>
/// A real AppHost, started as a person would start it (`dotnet Platform.AppHost.dll` from its build output,
/// working directory = repository root) on a data folder of the test's choosing. Gives the URL it announced,
/// its output, an orderly stop (SIGTERM) or a kill, and a scan for anything it left running. Reusable by any
/// end-to-end test that needs the whole platform up.
/// </summary>
public sealed partial class StartedPlatform : IAsyncDisposable
{
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private StartedPlatform(Process process, string dataDirectory)
    {
        _process = process;
        DataDirectory = dataDirectory;
    }

    public static string RepositoryRoot { get; } = RepositoryLayout.FindRoot(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"No {RepositoryLayout.SolutionFile} above {AppContext.BaseDirectory}");

    /// <summary>The AppHost's own build output, in the configuration these tests were built with.</summary>
    public static string AppHostAssembly
    {
        get
        {
            var (configuration, framework) = RepositoryLayout.BuildOf(AppContext.BaseDirectory);
            return Path.Combine(RepositoryRoot, "AppHost", "bin", configuration, framework, "Platform.AppHost.dll");
        }
    }

    public string DataDirectory { get; }

    public int Pid => _process.Id;

    /// <summary>The URL from the "Platform is ready" line.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return string.Join('\n', _lines);
            }
        }
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts an AppHost and waits for its "Platform is ready" line; throws with its output when it does not come.</summary>
    public static async Task<StartedPlatform> StartAsync(
        string dataDirectory, int port, IReadOnlyDictionary<string, string>? environment = null, IReadOnlyList<string>? extraArguments = null,
        TimeSpan? readyTimeout = null)
    {
        var platform = Launch(dataDirectory,
            ["--data-dir", dataDirectory, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. extraArguments ?? []],
            environment);
        var timeout = readyTimeout ?? ReadyTimeout;
        var ready = await Task.WhenAny(platform._ready.Task, platform._process.WaitForExitAsync(), Task.Delay(timeout));
        if (ready != platform._ready.Task)
        {
            var why = platform._process.HasExited ? $"exited with code {platform._process.ExitCode}" : $"was not ready within {timeout.TotalSeconds:0} s";
            await platform.DisposeAsync();
            throw new InvalidOperationException($"The AppHost {why}. Its output:\n{platform.Output}");
        }

        platform.Url = new Uri(await platform._ready.Task);
        // The "No users yet" line follows the ready line at once; give it a moment to arrive.
        await Task.Delay(200);
        return platform;
    }

    /// <summary>Runs the AppHost with any arguments and returns its exit code and output (for quick failures and --help).</summary>
    public static async Task<(int ExitCode, string Output)> RunToEndAsync(
        IReadOnlyList<string> arguments, TimeSpan timeout, IReadOnlyDictionary<string, string>? environment = null)
    {
        var platform = Launch(Path.Combine(Path.GetTempPath(), "unused"), arguments, environment);
        var exited = platform._process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(timeout)) != exited)
        {
            await platform.DisposeAsync();
            throw new InvalidOperationException($"The AppHost did not exit within {timeout.TotalSeconds:0} s. Its output:\n{platform.Output}");
        }

        await platform._process.WaitForExitAsync();
        return (platform._process.ExitCode, platform.Output);
    }

    private static StartedPlatform Launch(string dataDirectory, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo(DotnetHost.Path())
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(AppHostAssembly);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // Hermetic: settings of the machine running the tests must not redirect the platform elsewhere.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("ConnectionStrings__", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("AppHost__", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }

        // A free PostgreSQL port rather than the shared default, so concurrent test runs cannot race for it.
        info.Environment["AppHost__PostgresPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        info.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info };
        var platform = new StartedPlatform(process, dataDirectory);
        process.OutputDataReceived += (_, e) => platform.Receive(e.Data);
        process.ErrorDataReceived += (_, e) => platform.Receive(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return platform;
    }

    private void Receive(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            _lines.Add(line);
        }

        if (ReadyLine().Match(line) is { Success: true } match)
        {
            _ready.TrySetResult(match.Groups["url"].Value);
        }
    }

    public bool HasLine(string fragment)
    {
        lock (_gate)
        {
            return _lines.Any(l => l.Contains(fragment, StringComparison.Ordinal));
        }
    }

    /// <summary>Waits for an output line containing <paramref name="fragment"/>; false when it does not come in time.</summary>
    public async Task<bool> WaitForLineAsync(string fragment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!HasLine(fragment))
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }

    /// <summary>The current pid of a service ("Started api (pid N)" or, after a restart, "api restarted (pid N)").</summary>
    public int PidOf(string service)
    {
        lock (_gate)
        {
            var pattern = new Regex($@"(?:Started {service}|{service} restarted) \(pid (?<pid>\d+)\)");
            return _lines.Select(l => pattern.Match(l)).Last(m => m.Success).Groups["pid"].Value is var pid
                ? int.Parse(pid, System.Globalization.CultureInfo.InvariantCulture)
                : 0;
        }
    }

    /// <summary>Waits for the AppHost to exit by itself and returns its exit code; throws with the output when it does not.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(timeout)) != exited)
        {
            throw new InvalidOperationException($"The AppHost did not exit within {timeout.TotalSeconds:0} s. Its output:\n{Output}");
        }

        await exited;
        return _process.ExitCode;
    }

    /// <summary>The ports the AppHost announced for its services ("waiting for http://127.0.0.1:PORT/health") and PostgreSQL.</summary>
    public IReadOnlyList<int> AnnouncedPorts
    {
        get
        {
            lock (_gate)
            {
                return _lines.SelectMany(l => AnnouncedPort().Matches(l)).Select(m => int.Parse(m.Groups["port"].Value, System.Globalization.CultureInfo.InvariantCulture)).Distinct().ToList();
            }
        }
    }

    /// <summary>The pid of PostgreSQL as announced ("PostgreSQL 15 is ready on ... (pid N"), or null with an external database.</summary>
    public int? PostgresPid
    {
        get
        {
            lock (_gate)
            {
                return _lines.Select(l => PostgresReady().Match(l)).LastOrDefault(m => m.Success) is { } m
                    ? int.Parse(m.Groups["pid"].Value, System.Globalization.CultureInfo.InvariantCulture)
                    : null;
            }
        }
    }

    /// <summary>SIGTERM, as a service manager would send it; returns the exit code, throws with the output on a hang.</summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        Unix.Signal(Pid, Unix.SIGTERM);
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(exited, Task.Delay(timeout)) != exited)
        {
            throw new InvalidOperationException($"The AppHost did not exit within {timeout.TotalSeconds:0} s of SIGTERM. Its output:\n{Output}");
        }

        await _process.WaitForExitAsync();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL to the AppHost alone, as when it crashes: its children are left to fend for themselves.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: false);
        await _process.WaitForExitAsync();
    }

    /// <summary>
    /// Processes this AppHost left behind: any whose command line names the data folder (PostgreSQL), any carrying
    /// Platform__ParentPid=&lt;its pid&gt; in their environment (the services), PostgreSQL by its announced pid,
    /// and any announced port still accepting connections. Zombies do not count: they hold nothing.
    /// </summary>
    public IReadOnlyList<string> Leftovers()
    {
        var found = ScanProcesses(DataDirectory, Pid);
        if (PostgresPid is { } postgres && Unix.IsAlive(postgres))
        {
            found.Add($"PostgreSQL pid {postgres}: {Unix.CommandLine(postgres)}");
        }

        found.AddRange(AnnouncedPorts.Where(IsListening).Select(p => $"port {p} still accepts connections"));
        return found.Distinct().ToList();
    }

    public static List<string> ScanProcesses(string dataDirectory, int appHostPid)
    {
        var marker = Encoding.UTF8.GetBytes($"Platform__ParentPid={appHostPid}\0");
        var found = new List<string>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid) || pid == Environment.ProcessId || !Unix.IsAlive(pid))
            {
                continue;
            }

            var commandLine = Unix.CommandLine(pid);
            if (commandLine.Contains(dataDirectory, StringComparison.Ordinal) || EnvironmentContains(pid, marker))
            {
                found.Add($"pid {pid}: {commandLine}");
            }
        }

        return found;
    }

    private static bool EnvironmentContains(int pid, byte[] marker)
    {
        try
        {
            return File.ReadAllBytes($"/proc/{pid}/environ").AsSpan().IndexOf(marker) >= 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static bool IsListening(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public static int FreePort() => Ports.PickFree(System.Net.IPAddress.Loopback);

    /// <summary>A fresh data folder under the temp directory, where the postgres user can reach it when tests run as root.</summary>
    public static string NewDataDirectory() =>
        Path.Combine(Path.GetTempPath(), $"platform-apphost-test-{Guid.NewGuid():N}"[..40]);

    /// <summary>
    /// Whatever happened in the test: stop the AppHost, then kill what it still owns — its services (by their
    /// Platform__ParentPid) and its own PostgreSQL (by pid), never a later AppHost's on the same data folder.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try
            {
                await StopAsync(TimeSpan.FromSeconds(30));
            }
            catch (InvalidOperationException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        var marker = Encoding.UTF8.GetBytes($"Platform__ParentPid={Pid}\0");
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && Unix.IsAlive(pid) && EnvironmentContains(pid, marker))
            {
                Unix.Signal(pid, Unix.SIGKILL);
            }
        }

        if (PostgresPid is { } postgres && Unix.IsAlive(postgres))
        {
            Unix.Signal(postgres, Unix.SIGQUIT);
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Platform is ready: (?<url>\S+)")]
    private static partial Regex ReadyLine();

    [GeneratedRegex(@"http://127\.0\.0\.1:(?<port>\d+)/health|on 127\.0\.0\.1:(?<port>\d+) \(pid")]
    private static partial Regex AnnouncedPort();

    [GeneratedRegex(@"PostgreSQL \d+ is ready on .* \(pid (?<pid>\d+)")]
    private static partial Regex PostgresReady();
}
