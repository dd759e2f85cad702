using System.Runtime.InteropServices;
using System.Runtime.Versioning;

// The AppHost runs PostgreSQL and the services as POSIX processes (signals, setpriv, file modes): Linux first,
// macOS where the same calls exist; Windows is not a target.
[assembly: UnsupportedOSPlatform("windows")]

namespace Platform.AppHost.Processes;

/// <summary>
/// The few POSIX calls .NET does not offer: Process.Kill only sends SIGKILL, but an orderly stop needs SIGTERM
/// for the services and SIGINT/SIGQUIT for PostgreSQL (fast and immediate shutdown).
/// </summary>
internal static partial class Unix
{
    public const int SIGINT = 2;
    public const int SIGQUIT = 3;
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Sends a signal; false when the process is already gone (or not ours to signal).</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && Kill(pid, signal) == 0;

    public static string SignalName(int signal) => signal switch
    {
        SIGINT => "SIGINT",
        SIGQUIT => "SIGQUIT",
        SIGKILL => "SIGKILL",
        SIGTERM => "SIGTERM",
        _ => $"signal {signal}",
    };

    /// <summary>
    /// Whether the process runs. A zombie does not count: an orphan whose new parent never reaps it stays in
    /// /proc as state Z (empty command line) although it holds no port, file or lock any more.
    /// </summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0)
        {
            return false;
        }

        if (!OperatingSystem.IsLinux())
        {
            return Kill(pid, 0) == 0;
        }

        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the parenthesised command name, which may itself contain spaces or ')'.
            var afterName = stat[(stat.LastIndexOf(')') + 1)..].TrimStart();
            return afterName.Length > 0 && afterName[0] is not ('Z' or 'X');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The executable name of a process (/proc/PID/comm), or null when it is gone.</summary>
    public static string? CommandName(int pid)
    {
        try
        {
            return OperatingSystem.IsLinux()
                ? File.ReadAllText($"/proc/{pid}/comm").Trim()
                : System.Diagnostics.Process.GetProcessById(pid).ProcessName;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The command line of a process with its arguments joined by spaces, or "" when unreadable.</summary>
    public static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    /// <summary>Waits until the process is gone, polling: it need not be our child, so there is nothing to wait on.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }
}
