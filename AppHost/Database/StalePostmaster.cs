using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Database;

/// <summary>
/// Recovers from an earlier AppHost that was killed without stopping its PostgreSQL (kill -9, a crashed
/// terminal): the orphaned server still holds the data folder, so it is stopped before ours starts. A
/// postmaster.pid naming a process that is gone, a zombie or some other program is removed, because
/// PostgreSQL itself refuses to start while the recorded pid answers kill(pid, 0).
/// </summary>
internal static class StalePostmaster
{
    public static async Task ClearAsync(string dataDirectory, ConsoleOutput output)
    {
        var pidFile = Path.Combine(dataDirectory, "postmaster.pid");
        string[] lines;
        try
        {
            lines = File.ReadAllLines(pidFile);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return;
        }

        if (lines.Length < 2 || !int.TryParse(lines[0], out var pid) || !IsPostmasterOf(pid, lines[1], dataDirectory))
        {
            output.Info("Removing the postmaster.pid left by an earlier PostgreSQL that is no longer running.");
            File.Delete(pidFile);
            return;
        }

        output.Warn($"PostgreSQL (pid {pid}) from an earlier run that did not stop cleanly still runs on {dataDirectory}; stopping it.");
        await StopAsync(pid, dataDirectory, output);
    }

    private static bool IsPostmasterOf(int pid, string recordedDirectory, string dataDirectory) =>
        Unix.IsAlive(pid)
        && Unix.CommandName(pid) is "postgres" or "postmaster"
        && Path.TrimEndingDirectorySeparator(recordedDirectory) == Path.TrimEndingDirectorySeparator(dataDirectory);

    /// <summary>Fast shutdown, then immediate shutdown, then SIGKILL: it is not our child, so we poll for its end.</summary>
    private static async Task StopAsync(int pid, string dataDirectory, ConsoleOutput output)
    {
        foreach (var (signal, wait) in new[] { (Unix.SIGINT, 30), (Unix.SIGQUIT, 10), (Unix.SIGKILL, 5) })
        {
            Unix.Signal(pid, signal);
            if (await Unix.WaitForExitAsync(pid, TimeSpan.FromSeconds(wait)))
            {
                return;
            }

            output.Warn($"PostgreSQL (pid {pid}) did not stop within {wait} s of {Unix.SignalName(signal)}.");
        }

        throw new StartupFailure($"Could not stop the earlier PostgreSQL (pid {pid}) on {dataDirectory}. Stop it by hand and start again.");
    }
}
