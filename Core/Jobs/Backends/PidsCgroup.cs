using System.Globalization;

namespace Platform.Core.Jobs.Backends;

/// <summary>
/// A process-count ceiling for one replica of the process backend: a cgroup of the <c>pids</c> controller (v1 at
/// <c>/sys/fs/cgroup/pids</c>, or v2 where the controller is enabled) under <c>platform-jobs/</c>. Unlike
/// <c>prlimit --nproc</c>, which counts per user and does not bind root, it holds a fork bomb of any user to its
/// replica, and it names every process the replica left behind so a stop reaches them all. Where cgroups cannot be
/// written (not root, a read-only mount) <see cref="Create"/> answers null and prlimit is what remains.
/// </summary>
public static class PidsCgroup
{
    private const string Parent = "platform-jobs";

    /// <summary>Makes (or reuses) the replica's cgroup with <paramref name="maxProcesses"/>; null where cgroups are unavailable.</summary>
    public static string? Create(string name, int maxProcesses)
    {
        if (Root() is not { } root)
        {
            return null;
        }

        try
        {
            var parent = Path.Combine(root, Parent);
            Directory.CreateDirectory(parent);
            if (root != V1Root)
            {
                // v2: the controller must be handed down to the children of each level.
                File.WriteAllText(Path.Combine(root, "cgroup.subtree_control"), "+pids");
                File.WriteAllText(Path.Combine(parent, "cgroup.subtree_control"), "+pids");
            }

            // Replicas that ended on their own leave empty cgroups: swept here (the kernel refuses to remove one in use).
            foreach (var old in Directory.EnumerateDirectories(parent, "platform-job-*"))
            {
                try
                {
                    if (!File.ReadAllText(Path.Combine(old, "cgroup.procs")).Any(char.IsDigit))
                    {
                        Directory.Delete(old);
                    }
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // In use, or gone meanwhile.
                }
            }

            var path = Path.Combine(parent, name);
            Directory.CreateDirectory(path);
            File.WriteAllText(Path.Combine(path, "pids.max"), maxProcesses.ToString(CultureInfo.InvariantCulture));
            return path;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The processes in the replica's cgroup now (empty when it has none or is gone).</summary>
    public static IReadOnlyList<int> Pids(string name)
    {
        if (PathOf(name) is not { } path)
        {
            return [];
        }

        try
        {
            return File.ReadAllLines(Path.Combine(path, "cgroup.procs"))
                .Select(l => int.TryParse(l, CultureInfo.InvariantCulture, out var pid) ? pid : 0).Where(p => p > 0).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>Kills whatever is still in the replica's cgroup, then removes it; nothing there is success.</summary>
    public static async Task KillAndRemoveAsync(string name)
    {
        for (var attempt = 0; attempt < 20 && Pids(name) is { Count: > 0 } pids; attempt++)
        {
            foreach (var pid in pids)
            {
                _ = Deployments.Backends.ProcessBackend.Kill(pid, 9);
            }

            await Task.Delay(50, CancellationToken.None);
        }

        Remove(name);
    }

    /// <summary>Removes the replica's cgroup if it holds no process (the kernel refuses otherwise).</summary>
    public static void Remove(string name)
    {
        if (PathOf(name) is { } path)
        {
            try
            {
                Directory.Delete(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Still in use: removed by a later stop or poll.
            }
        }
    }

    private static string? PathOf(string name) =>
        Root() is { } root && Directory.Exists(Path.Combine(root, Parent, name)) ? Path.Combine(root, Parent, name) : null;

    private const string V1Root = "/sys/fs/cgroup/pids";

    private static string? Root()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if (File.Exists(Path.Combine(V1Root, "cgroup.procs")))
        {
            return V1Root;
        }

        const string v2 = "/sys/fs/cgroup";
        try
        {
            return File.Exists(Path.Combine(v2, "cgroup.controllers"))
                && File.ReadAllText(Path.Combine(v2, "cgroup.controllers")).Split(' ', '\n').Contains("pids") ? v2 : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
