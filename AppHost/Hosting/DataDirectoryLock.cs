using Platform.AppHost.Processes;

namespace Platform.AppHost.Hosting;

/// <summary>
/// One AppHost per data folder: a second one would find the first one's PostgreSQL "stale" and stop it.
/// The lock is a pid file; one left by a killed AppHost is taken over, since its pid no longer runs an AppHost.
/// </summary>
internal sealed class DataDirectoryLock : IDisposable
{
    private readonly string _path;

    private DataDirectoryLock(string path) => _path = path;

    public static DataDirectoryLock Acquire(string dataDirectory)
    {
        Directory.CreateDirectory(dataDirectory);
        var path = Path.Combine(dataDirectory, "apphost.pid");
        if (File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid)
            && pid != Environment.ProcessId && Unix.IsAlive(pid) && Unix.CommandLine(pid).Contains("AppHost", StringComparison.Ordinal))
        {
            throw new StartupFailure($"Another AppHost (pid {pid}) is already running on {dataDirectory}. " +
                "Stop it first (Ctrl+C in its terminal, or kill " + pid + "), or use another --data-dir.");
        }

        File.WriteAllText(path, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new DataDirectoryLock(path);
    }

    public void Dispose()
    {
        try
        {
            if (File.Exists(_path) && File.ReadAllText(_path).Trim() == Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
            {
                File.Delete(_path);
            }
        }
        catch (IOException)
        {
            // Harmless: the next start recognises a pid file whose process is not an AppHost.
        }
    }
}
