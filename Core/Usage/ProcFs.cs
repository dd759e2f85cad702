using System.Globalization;
using System.Runtime.InteropServices;

namespace Platform.Core.Usage;

/// <summary>What one process group used, summed over its live members (pids whose process group id is the leader's).</summary>
/// <param name="CpuTicks">utime + stime of the members, in clock ticks (<see cref="ProcFs.ClockTicksPerSecond"/>).</param>
/// <param name="ReadBytes">Bytes read from storage (/proc/{pid}/io), -1 when any member's is unreadable.</param>
public sealed record GroupStats(int Members, long CpuTicks, long RssBytes, long ReadBytes, long WriteBytes, IReadOnlyList<int> Pids);

/// <summary>Readings from /proc: process groups, the host's CPU time and memory. Linux only; elsewhere everything is empty.</summary>
public static class ProcFs
{
    public static readonly long ClockTicksPerSecond = ReadClockTicks();

    /// <summary>Every live process group on the host at once (one scan of /proc serves all workloads).</summary>
    public static IReadOnlyDictionary<int, GroupStats> ReadGroups()
    {
        var groups = new Dictionary<int, List<(int Pid, long Ticks, long Rss)>>();
        IEnumerable<string> entries;
        try
        {
            entries = Directory.EnumerateDirectories("/proc");
        }
        catch (IOException)
        {
            return new Dictionary<int, GroupStats>();
        }

        foreach (var entry in entries)
        {
            if (!int.TryParse(Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || ReadStat(pid) is not { } stat)
            {
                continue;
            }

            if (!groups.TryGetValue(stat.Pgrp, out var members))
            {
                groups[stat.Pgrp] = members = [];
            }

            members.Add((pid, stat.Ticks, stat.RssPages * Environment.SystemPageSize));
        }

        return groups.ToDictionary(g => g.Key, g =>
        {
            long read = 0, write = 0;
            foreach (var (pid, _, _) in g.Value)
            {
                var io = ReadIo(pid);
                read = read < 0 || io.Read < 0 ? -1 : read + io.Read;
                write = write < 0 || io.Write < 0 ? -1 : write + io.Write;
            }

            return new GroupStats(g.Value.Count, g.Value.Sum(m => m.Ticks), g.Value.Sum(m => m.Rss), read, write, g.Value.Select(m => m.Pid).ToList());
        });
    }

    /// <summary>/proc/{pid}/stat: process group (field 5), utime + stime (14, 15), resident pages (24); zombies are left out.</summary>
    private static (int Pgrp, long Ticks, long RssPages)? ReadStat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces and parentheses: fields after it start after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            if (fields[0] is "Z" or "X")
            {
                return null;
            }

            return (int.Parse(fields[2], CultureInfo.InvariantCulture),
                long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture),
                long.Parse(fields[21], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>read_bytes and write_bytes of /proc/{pid}/io; -1 each when it cannot be read (another user's process).</summary>
    private static (long Read, long Write) ReadIo(int pid)
    {
        try
        {
            long read = -1, write = -1;
            foreach (var line in File.ReadLines($"/proc/{pid}/io"))
            {
                if (line.StartsWith("read_bytes:", StringComparison.Ordinal))
                {
                    read = long.Parse(line.AsSpan(11).Trim(), CultureInfo.InvariantCulture);
                }
                else if (line.StartsWith("write_bytes:", StringComparison.Ordinal))
                {
                    write = long.Parse(line.AsSpan(12).Trim(), CultureInfo.InvariantCulture);
                }
            }

            return (read, write);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return (-1, -1);
        }
    }

    /// <summary>The host's CPU time from the first line of /proc/stat: (busy, total) in ticks; null off Linux.</summary>
    public static (long Busy, long Total)? ReadHostCpu()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal (guest time is already inside user).
            var total = values.Take(8).Sum();
            var idle = values[3] + (values.Length > 4 ? values[4] : 0);
            return (total - idle, total);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    /// <summary>MemTotal and MemAvailable of /proc/meminfo in bytes; null off Linux.</summary>
    public static (long Total, long Available)? ReadMemory()
    {
        try
        {
            long total = -1, available = -1;
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts[0] == "MemTotal:")
                {
                    total = long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
                else if (parts[0] == "MemAvailable:")
                {
                    available = long.Parse(parts[1], CultureInfo.InvariantCulture) * 1024;
                }
            }

            return total < 0 || available < 0 ? null : (total, available);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static long ReadClockTicks()
    {
        try
        {
            return OperatingSystem.IsLinux() && SysConf(ScClkTck) is > 0 and var ticks ? ticks : 100;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    }

    private const int ScClkTck = 2;

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);
}
