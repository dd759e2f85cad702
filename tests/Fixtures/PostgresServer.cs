using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Platform.Tests.Fixtures;

/// <summary>
/// A throwaway PostgreSQL cluster from the locally installed binaries, one per test process, each test class
/// taking a fresh database of its own (<see cref="CreateDatabaseAsync"/>). Removed when the process exits.
/// Runs as root too: the cluster then belongs to the 'postgres' user, as PostgreSQL insists.
/// </summary>
public sealed class PostgresServer
{
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly string _directory;
    private readonly string _binDirectory;
    private readonly int _port;
    private int _databaseCounter;

    private PostgresServer(string directory, string binDirectory, int port)
    {
        _directory = directory;
        _binDirectory = binDirectory;
        _port = port;
    }

    public static Task<PostgresServer> GetAsync() => Shared.Value;

    public string AdminConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=postgres;Pooling=false";

    /// <summary>
    /// Creates an empty database and returns its connection string. Its pool is bounded: many Workers hosts run side by
    /// side in one test process, each with its loops (reconcilers, scheduler, shipper, usage), and together they must
    /// stay under the server's max_connections.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "test")
    {
        var name = $"{prefix}_{Environment.ProcessId}_{Interlocked.Increment(ref _databaseCounter)}".ToLowerInvariant();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return $"Host=127.0.0.1;Port={_port};Username=postgres;Database={name};Maximum Pool Size=30";
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var bin = FindBinDirectory() ?? throw new InvalidOperationException(
            "PostgreSQL server binaries not found: install the Debian/Ubuntu package 'postgresql'.");
        SweepLeftovers();
        var directory = Path.Combine(Path.GetTempPath(), $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..40]);
        Directory.CreateDirectory(directory);
        var data = Path.Combine(directory, "data");
        var asRoot = Environment.IsPrivilegedProcess;
        if (asRoot)
        {
            await RunAsync("chown", ["postgres:postgres", directory]);
        }

        await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"], asRoot);
        var port = FreePort();
        var server = new PostgresServer(directory, bin, port);
        await RunAsync(Path.Combine(bin, "pg_ctl"),
        [
            "-D", data, "-l", Path.Combine(directory, "postgres.log"), "-w", "-t", "60", "start",
            "-o", $"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=600",
        ], asRoot);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        return server;
    }

    private void Stop()
    {
        try
        {
            var stop = new ProcessStartInfo(Environment.IsPrivilegedProcess ? "runuser" : Path.Combine(_binDirectory, "pg_ctl"));
            if (Environment.IsPrivilegedProcess)
            {
                foreach (var a in new[] { "-u", "postgres", "--", Path.Combine(_binDirectory, "pg_ctl") })
                {
                    stop.ArgumentList.Add(a);
                }
            }

            foreach (var a in new[] { "-D", Path.Combine(_directory, "data"), "-m", "immediate", "-w", "stop" })
            {
                stop.ArgumentList.Add(a);
            }

            stop.RedirectStandardOutput = stop.RedirectStandardError = true;
            using var process = Process.Start(stop);
            process?.WaitForExit(15_000);
            Directory.Delete(_directory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Best effort at process exit: a leftover temp folder is not worth failing a run for.
        }
    }

    private const string FolderPrefix = "platform-test-pg-";

    /// <summary>
    /// The test host may be torn down before its exit handler finishes, leaving a cluster folder behind: remove those
    /// whose test process (the pid in the name) and postmaster are both gone.
    /// </summary>
    private static void SweepLeftovers()
    {
        foreach (var folder in Directory.EnumerateDirectories(Path.GetTempPath(), FolderPrefix + "*"))
        {
            var pidText = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-')[0];
            var postmaster = Path.Combine(folder, "data", "postmaster.pid");
            if (!int.TryParse(pidText, out var pid) || Directory.Exists($"/proc/{pid}")
                || (File.Exists(postmaster) && int.TryParse(File.ReadLines(postmaster).FirstOrDefault(), out var pg) && Directory.Exists($"/proc/{pg}")))
            {
                continue;
            }

            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another user's folder, or one being removed right now: not ours to fight over.
            }
        }
    }

    public static string? FindBinDirectory()
    {
        var candidates = new List<string>();
        if (Directory.Exists("/usr/lib/postgresql"))
        {
            candidates.AddRange(Directory.GetDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));
        return candidates.FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task RunAsync(string file, string[] args, bool asPostgres = false)
    {
        var info = new ProcessStartInfo(asPostgres ? "runuser" : file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (asPostgres)
        {
            foreach (var a in new[] { "-u", "postgres", "--", file })
            {
                info.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
