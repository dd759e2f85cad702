using System.Diagnostics;
using Platform.AppHost.Hosting;

namespace Platform.AppHost.Processes;

/// <summary>How a child is asked to stop: a first signal, the time it gets, then a harder one.</summary>
internal sealed record StopSignals(int First, TimeSpan Grace, int Fallback)
{
    /// <summary>ASP.NET Core services: SIGTERM starts a graceful shutdown; SIGKILL when it hangs.</summary>
    public static readonly StopSignals Service = new(Unix.SIGTERM, TimeSpan.FromSeconds(10), Unix.SIGKILL);

    /// <summary>PostgreSQL: SIGINT is "fast shutdown" (clean, no waiting for clients); SIGQUIT is "immediate".</summary>
    public static readonly StopSignals Postgres = new(Unix.SIGINT, TimeSpan.FromSeconds(20), Unix.SIGQUIT);
}

/// <summary>What to run for one child; the same spec starts it again after a crash.</summary>
internal sealed record ChildSpec(
    string Name,
    string FileName,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string?> Environment,
    StopSignals Stop);

/// <summary>
/// One supervised child process: started with its output streamed line by line behind its name, the last lines
/// kept for failure reports, and stopped by signal. Restarting reuses the object, so the kept lines span runs.
/// </summary>
internal sealed class ChildProcess(ChildSpec spec, ConsoleOutput output)
{
    private const int KeptLines = 50;

    private readonly Queue<string> _lastLines = new();
    private readonly Lock _gate = new();
    private Process? _process;

    public ChildSpec Spec => spec;

    public string Name => spec.Name;

    public int Pid { get; private set; }

    /// <summary>Completes with the exit code once the current run has ended and its output is fully read.</summary>
    public Task<int> Exited { get; private set; } = Task.FromResult(0);

    public bool IsRunning => !Exited.IsCompleted;

    public void Start()
    {
        var info = new ProcessStartInfo(spec.FileName)
        {
            WorkingDirectory = spec.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in spec.Environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        Process process;
        try
        {
            process = Process.Start(info) ?? throw new StartupFailure($"Could not start {spec.Name} ({spec.FileName}).");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new StartupFailure($"Could not start {spec.Name}: {spec.FileName}: {e.Message}");
        }

        _process?.Dispose();
        _process = process;
        Pid = process.Id;
        Exited = RunAsync(process);
    }

    private async Task<int> RunAsync(Process process)
    {
        var stdout = PumpAsync(process.StandardOutput);
        var stderr = PumpAsync(process.StandardError);
        await process.WaitForExitAsync().ConfigureAwait(false);
        await Task.WhenAll(stdout, stderr).ConfigureAwait(false);
        return process.ExitCode;
    }

    private async Task PumpAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (_gate)
            {
                _lastLines.Enqueue(line);
                if (_lastLines.Count > KeptLines)
                {
                    _lastLines.Dequeue();
                }
            }

            output.Line(spec.Name, line);
        }
    }

    public IReadOnlyList<string> LastLines(int count)
    {
        lock (_gate)
        {
            return _lastLines.Skip(Math.Max(0, _lastLines.Count - count)).ToList();
        }
    }

    /// <summary>The first signal, then the fallback after the grace period, then SIGKILL: it always ends.</summary>
    public async Task StopAsync()
    {
        if (!IsRunning || _process is null)
        {
            return;
        }

        Unix.Signal(Pid, spec.Stop.First);
        if (await WaitAsync(spec.Stop.Grace))
        {
            return;
        }

        output.Warn($"{Name} did not stop within {spec.Stop.Grace.TotalSeconds:0} s of {Unix.SignalName(spec.Stop.First)}; sending {Unix.SignalName(spec.Stop.Fallback)}.");
        Unix.Signal(Pid, spec.Stop.Fallback);
        if (spec.Stop.Fallback != Unix.SIGKILL && await WaitAsync(TimeSpan.FromSeconds(5)))
        {
            return;
        }

        _process.Kill(entireProcessTree: true);
        await WaitAsync(TimeSpan.FromSeconds(5));
    }

    private async Task<bool> WaitAsync(TimeSpan timeout) =>
        await Task.WhenAny(Exited, Task.Delay(timeout)) == Exited;
}
