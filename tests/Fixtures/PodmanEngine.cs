using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Platform.Core.Deployments.Backends;

namespace Platform.Tests.Fixtures;

/// <summary>
/// A real container engine for the docker backend's tests: <c>podman system service</c> serving the Docker Engine API
/// on a socket of its own, one per test process, with the notebook and demo images built (or found) by
/// <c>Notebook/images/build.sh</c>. Podman keeps its images in its own storage, so only the first run on a machine
/// builds them (several minutes: debootstrap and apt). Stopped when the process exits.
/// </summary>
public sealed class PodmanEngine
{
    public const string JupyterImage = "localhost/platform-jupyter:latest";
    public const string DemoClassifierImage = "localhost/platform-demo-classifier:latest";

    private static readonly Lazy<Task<PodmanEngine>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Process _service;

    private PodmanEngine(string socket, Process service)
    {
        Socket = socket;
        _service = service;
    }

    /// <summary>The engine's unix socket path (what <c>Compute:Docker:Socket</c> takes).</summary>
    public string Socket { get; }

    public static Task<PodmanEngine> GetAsync() => Shared.Value;

    /// <summary>Runs the podman command line against the same storage the service uses; returns its output.</summary>
    public static async Task<(int ExitCode, string Output)> PodmanAsync(params string[] arguments) => await RunAsync("podman", arguments, TimeSpan.FromMinutes(2));

    private static async Task<PodmanEngine> StartAsync()
    {
        if (!Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException("The docker backend tests run rootful Podman: run them as root (CI does).");
        }

        if (ProcessBackend.OnPath("podman") is null)
        {
            throw new InvalidOperationException("podman is not installed: apt-get install podman runc iptables debootstrap (README, Prerequisites).");
        }

        var root = RepositoryRoot();
        var (code, output) = await RunAsync(Path.Combine(root, "Notebook", "images", "build.sh"), ["jupyter", "demo-classifier"], TimeSpan.FromMinutes(20));
        if (code != 0)
        {
            throw new InvalidOperationException($"Notebook/images/build.sh failed ({code}):\n{output}");
        }

        var socket = Path.Combine(Path.GetTempPath(), $"platform-podman-{Environment.ProcessId}-{Guid.NewGuid():N}.sock");
        // The service outlives a test host that is killed rather than ended (ProcessExit never runs then), so a small
        // shell watches the host's pid and ends the service when the host is gone.
        var start = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
                 {
                     "-c", """
                           podman system service --time=0 "$1" & service=$!
                           while kill -0 "$2" 2>/dev/null && kill -0 "$service" 2>/dev/null; do sleep 1; done
                           kill "$service" 2>/dev/null; wait "$service"
                           """,
                     "podman-service", $"unix://{socket}", Environment.ProcessId.ToString(CultureInfo.InvariantCulture),
                 })
        {
            start.ArgumentList.Add(argument);
        }

        var service = Process.Start(start) ?? throw new InvalidOperationException("podman system service did not start");
        service.OutputDataReceived += (_, _) => { };
        service.ErrorDataReceived += (_, _) => { };
        service.BeginOutputReadLine();
        service.BeginErrorReadLine();
        var engine = new PodmanEngine(socket, service);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => engine.Stop();

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await probe.ConnectAsync(new UnixDomainSocketEndPoint(socket));
                return engine;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !service.HasExited)
            {
                await Task.Delay(100);
            }
            catch (SocketException ex)
            {
                engine.Stop();
                throw new InvalidOperationException($"podman system service did not open {socket}: {ex.Message}");
            }
        }
    }

    private void Stop()
    {
        try
        {
            if (!_service.HasExited)
            {
                _service.Kill(entireProcessTree: true);
                _service.WaitForExit(5000);
            }

            File.Delete(Socket);
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private static async Task<(int, string)> RunAsync(string program, IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} ran past {timeout}");
        }

        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Platform.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("Platform.sln not found above " + AppContext.BaseDirectory);
    }
}
