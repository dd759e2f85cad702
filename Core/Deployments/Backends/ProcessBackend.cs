using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Platform.Core.Catalog;

namespace Platform.Core.Deployments.Backends;

/// <summary>
/// The embedded backend: each deployment is a local process group in a session of its own (setsid, so a restart of
/// Workers does not take it down), working in <c>{root}/{id}</c>, a workspace kept across stop and start. Private files
/// (Jupyter's config and runtime folders, HOME, the log and the process record) live in its <c>.platform</c> folder.
/// The process record names the pid and the kernel's start ticks of that pid, so a pid reused by another process
/// is never mistaken for the workload.
/// </summary>
public sealed class ProcessBackend(ProcessBackendOptions options) : IComputeBackend
{
    public const string BackendName = "process";
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    public string Name => BackendName;

    public static ProcessBackendOptions OptionsFrom(IConfiguration configuration) => new(
        configuration["Platform:Deployments:WorkspaceRoot"] is { Length: > 0 } root ? root
        : configuration["Platform:DataDir"] is { Length: > 0 } data ? Path.Combine(data, "workspaces")
        : Path.Combine(Path.GetTempPath(), "platform-workspaces"),
        SdkLocation.Find(configuration));

    public string WorkspaceOf(Guid deploymentId) => Path.Combine(options.WorkspaceRoot, deploymentId.ToString());

    private string PrivateOf(Guid deploymentId) => Path.Combine(WorkspaceOf(deploymentId), ".platform");

    private string RecordOf(Guid deploymentId) => Path.Combine(PrivateOf(deploymentId), "process.json");

    public string LogOf(Guid deploymentId) => Path.Combine(PrivateOf(deploymentId), "process.log");

    public Task<BackendStart> StartAsync(WorkloadSpec spec, string? state, IProgress<string> progress, CancellationToken ct)
    {
        var id = spec.DeploymentId;
        // Find before create: the record in the workspace is written right after launching, so it survives a worker
        // killed before the database heard of the process.
        foreach (var known in new[] { ReadRecord(id), Parse(state) })
        {
            if (known is not null && IsAlive(known))
            {
                progress.Report($"Adopted the running process {known.Pid} on port {known.Port}");
                return Task.FromResult(new BackendStart(JsonSerializer.Serialize(known), AddressOf(known.Port), Launched: false));
            }
        }

        var workspace = WorkspaceOf(id);
        var isNew = !Directory.Exists(workspace);
        var home = Path.Combine(PrivateOf(id), "home");
        var config = Path.Combine(PrivateOf(id), "jupyter-config");
        var runtime = Path.Combine(PrivateOf(id), "jupyter-runtime");
        foreach (var folder in new[] { home, config, runtime })
        {
            Directory.CreateDirectory(folder);
        }

        if (isNew && spec.Template == DeploymentTemplate.Default)
        {
            File.WriteAllText(Path.Combine(workspace, "README.md"),
                $"# {spec.Module}\n\nThis folder is your workspace: it is kept when the deployment stops and removed when it is deleted.\n");
        }

        LinkDatasets(workspace, spec.Mounts);
        var port = FreePort();
        var environment = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal)
        {
            ["HOME"] = home,
            ["JUPYTER_CONFIG_DIR"] = config,
            ["JUPYTER_RUNTIME_DIR"] = runtime,
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
            ["LANG"] = "C.UTF-8",
        };
        SdkLocation.AddTo(environment, options.SdkPath);
        var command = spec.Service switch
        {
            ModuleService.Jupyter => JupyterCommand(spec, port, workspace, config),
            ModuleService.VsCode => CodeServerCommand(spec, port, workspace, PrivateOf(id), environment),
            ModuleService.Api => ApiCommand(spec, port, environment),
            _ => throw new WorkloadException($"The process backend cannot run '{spec.Service}'."),
        };
        var limits = Limits(spec.Resources);
        progress.Report(limits.Note);
        var record = Launch(id, workspace, limits.Prefix.Concat(command).ToList(), environment, port);
        progress.Report($"Launched {command[0]} as process {record.Pid} on port {port}");
        return Task.FromResult(new BackendStart(JsonSerializer.Serialize(record), AddressOf(port), Launched: true));
    }

    public Task<BackendStatus> PollAsync(Guid deploymentId, string? state, CancellationToken ct)
    {
        var record = Parse(state) ?? ReadRecord(deploymentId);
        if (record is null)
        {
            return Task.FromResult(new BackendStatus(WorkloadStatus.NotFound, Reason: "no process was recorded"));
        }

        return Task.FromResult(IsAlive(record)
            ? BackendStatus.Running
            : new BackendStatus(WorkloadStatus.Exited, Reason: $"process {record.Pid} ended. {LogTail(deploymentId)}".Trim()));
    }

    public async Task StopAsync(Guid deploymentId, string? state, CancellationToken ct)
    {
        foreach (var record in new[] { Parse(state), ReadRecord(deploymentId) }.OfType<ProcessRecord>().DistinctBy(r => (r.Pid, r.StartTicks)))
        {
            await StopProcessAsync(record);
        }

        if (File.Exists(RecordOf(deploymentId)))
        {
            File.Delete(RecordOf(deploymentId));
        }
    }

    public async Task DeleteAsync(Guid deploymentId, string? state, CancellationToken ct)
    {
        var workspace = WorkspaceOf(deploymentId);
        if (Directory.Exists(workspace))
        {
            await StopAsync(deploymentId, state, ct);
            Directory.Delete(workspace, recursive: true);
        }
        else if (Parse(state) is { } record)
        {
            await StopProcessAsync(record);
        }
    }

    public Task<string> LogTailAsync(Guid deploymentId, CancellationToken ct) => Task.FromResult(LogTail(deploymentId));

    /// <summary>The last lines of the workload's log, to say why it failed.</summary>
    public string LogTail(Guid deploymentId, int lines = 15) =>
        File.Exists(LogOf(deploymentId)) ? "Last log lines:\n" + TailOf(LogOf(deploymentId), lines) : "";

    /// <summary>The last <paramref name="lines"/> non-empty lines of a log a process may still be writing ("" when there is none).</summary>
    internal static string TailOf(string log, int lines)
    {
        if (!File.Exists(log))
        {
            return "";
        }

        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(Math.Max(0, stream.Length - 8192), SeekOrigin.Begin);
        return string.Join('\n', new StreamReader(stream).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
    }

    private List<string> JupyterCommand(WorkloadSpec spec, int port, string workspace, string configFolder)
    {
        var (subcommand, app) = FindJupyter() ?? throw new WorkloadException(
            "Jupyter is not installed on this machine (none of 'jupyter lab', 'jupyter notebook', 'jupyter server').");
        var hashed = HashPassword(spec.Password);
        // In a config file, not on the command line, where every local user could read it with ps.
        var settings = $"c.{app}.password = '{hashed}'\nc.{app}.token = '{spec.ServiceToken}'\nc.{app}.password_required = True\n";
        File.WriteAllText(Path.Combine(configFolder, app == "NotebookApp" ? "jupyter_notebook_config.py" : "jupyter_server_config.py"), settings);
        List<string> command =
        [
            "jupyter", subcommand, "--no-browser", "--ip=127.0.0.1", $"--port={port}", "--port-retries=0",
            $"--{app}.base_url={spec.BaseUrl}", app == "NotebookApp" ? $"--NotebookApp.notebook_dir={workspace}" : $"--ServerApp.root_dir={workspace}",
        ];
        if (Environment.IsPrivilegedProcess)
        {
            command.Add("--allow-root");
        }

        return command;
    }

    /// <summary>
    /// code-server on loopback with its own password (from the environment, never the command line). Its settings,
    /// extensions and config live in the private folder, so the workspace holds only the user's files. It has no
    /// base-path option: the IDE proxy strips <c>/ide/{id}</c> for it, and its links and redirects are relative.
    /// </summary>
    private static List<string> CodeServerCommand(WorkloadSpec spec, int port, string workspace, string privateFolder, Dictionary<string, string> environment)
    {
        var codeServer = OnPath("code-server") ?? throw new WorkloadException(
            "code-server is not installed on this machine (Notebook/images/install-code-server.sh installs it).");
        environment["PASSWORD"] = spec.Password;
        var folder = Path.Combine(privateFolder, "code-server");
        return
        [
            codeServer, "--bind-addr", $"127.0.0.1:{port}", "--auth", "password",
            "--config", Path.Combine(folder, "config.yaml"),
            "--user-data-dir", Path.Combine(folder, "user-data"),
            "--extensions-dir", Path.Combine(folder, "extensions"),
            "--disable-telemetry", "--disable-update-check", "--disable-getting-started-override", "--disable-workspace-trust", "--ignore-last-opened",
            workspace,
        ];
    }

    /// <summary>
    /// <c>datasets/{name}</c> in the workspace as a link to each mount's host folder, made again at every start (a
    /// version's folder differs from one start to the next when <c>@latest</c> moved); links of datasets no longer
    /// mounted go. Read-only by the folder's file modes (files 0444, folders 0555), which root ignores.
    /// </summary>
    internal static void LinkDatasets(string workspace, IReadOnlyList<WorkloadMount> mounts)
    {
        var folder = Path.Combine(workspace, "datasets");
        if (mounts.Count == 0 && !Directory.Exists(folder))
        {
            return;
        }

        Directory.CreateDirectory(folder);
        var wanted = mounts.ToDictionary(m => m.Name, m => m.HostPath, StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null && (!wanted.TryGetValue(entry.Name, out var target) || entry.LinkTarget != target))
            {
                entry.Delete();
            }
        }

        foreach (var (name, hostPath) in wanted)
        {
            var link = Path.Combine(folder, name);
            var existing = new DirectoryInfo(link);
            if (existing.LinkTarget == hostPath)
            {
                continue;
            }

            if (existing.Exists || File.Exists(link))
            {
                throw new WorkloadException($"datasets/{name} in the workspace is a file or folder of yours, not a dataset link: move it away to mount the dataset.");
            }

            Directory.CreateSymbolicLink(link, hostPath);
        }
    }

    private static List<string> ApiCommand(WorkloadSpec spec, int port, Dictionary<string, string> environment)
    {
        if (spec.ApiCommand is not { Count: > 0 } command)
        {
            throw new WorkloadException($"The module '{spec.Module}' has no API command.");
        }

        environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        environment["BASE_PATH"] = spec.BaseUrl;
        return [.. command];
    }

    internal static (IReadOnlyList<string> Prefix, string Note) Limits(ResourceRequest resources)
    {
        var prlimit = OnPath("prlimit");
        if (prlimit is null)
        {
            return ([], "Limits: none applied (prlimit is not installed); CPU and GPU counts are not enforced by the process backend");
        }

        // Address space is a ceiling on virtual memory, looser than resident memory (cgroups would be exact); the
        // process count is per user, so it only stops a fork bomb.
        const int processes = 4096;
        var bytes = (long)resources.MemoryMiB * 1024 * 1024;
        return ([prlimit, $"--as={bytes}", $"--nproc={processes}", "--"],
            $"Limits: address space {resources.MemoryMiB} MiB and {processes} processes (prlimit); CPU and GPU counts are not enforced by the process backend");
    }

    private ProcessRecord Launch(Guid id, string workspace, List<string> command, Dictionary<string, string> environment, int port)
    {
        var log = LogOf(id);
        File.AppendAllText(log, $"--- {DateTimeOffset.UtcNow:O} starting: {string.Join(' ', command)}\n");
        var setsid = OnPath("setsid") ?? throw new WorkloadException("setsid is not installed on this machine (util-linux).");
        // sh only redirects and execs: the pid Process.Start returns is the workload's own, leader of a new session
        // and process group (setsid execs in place since the child is not a group leader).
        var start = new ProcessStartInfo("/bin/sh") { WorkingDirectory = workspace, UseShellExecute = false };
        foreach (var argument in new[] { "-c", "exec \"$@\" </dev/null >>\"$0\" 2>&1", log, setsid }.Concat(command))
        {
            start.ArgumentList.Add(argument);
        }

        // A clean environment: the worker's own (database connection strings) is none of the workload's business.
        start.Environment.Clear();
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        // No await from here to the record being written: cancellation cannot land between launching and recording.
        using var process = Process.Start(start) ?? throw new WorkloadException("The process could not be started.");
        var record = new ProcessRecord(process.Id, StartTicks(process.Id) ?? 0, port, DateTimeOffset.UtcNow);
        var temporary = RecordOf(id) + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(record));
        File.Move(temporary, RecordOf(id), overwrite: true);
        return record;
    }

    internal static async Task StopProcessAsync(ProcessRecord record)
    {
        if (!IsAlive(record))
        {
            return;
        }

        // The group, and the pid itself in case it has not reached setsid yet (stopped right after launching).
        _ = Kill(-record.Pid, SigTerm);
        _ = Kill(record.Pid, SigTerm);
        var deadline = DateTime.UtcNow + StopGrace;
        while (DateTime.UtcNow < deadline && IsAlive(record))
        {
            await Task.Delay(100, CancellationToken.None);
        }

        if (IsAlive(record))
        {
            _ = Kill(-record.Pid, SigKill);
            _ = Kill(record.Pid, SigKill);
            for (var i = 0; i < 50 && IsAlive(record); i++)
            {
                await Task.Delay(100, CancellationToken.None);
            }
        }
    }

    /// <summary>Alive, not a zombie, and the same process that was recorded (the pid was not reused).</summary>
    public static bool IsAlive(ProcessRecord record) =>
        ReadStat(record.Pid) is { } stat && stat.State is not ('Z' or 'X') && stat.StartTicks == record.StartTicks;

    internal static long? StartTicks(int pid) => ReadStat(pid)?.StartTicks;

    /// <summary>/proc/{pid}/stat: the state (field 3) and the start time in clock ticks since boot (field 22).</summary>
    private static (char State, long StartTicks)? ReadStat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) may hold spaces and parentheses: fields after it start after the last ')'.
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return (fields[0][0], long.Parse(fields[19], CultureInfo.InvariantCulture));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null;
        }
    }

    private ProcessRecord? ReadRecord(Guid deploymentId)
    {
        try
        {
            return Parse(File.ReadAllText(RecordOf(deploymentId)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static ProcessRecord? Parse(string? state) => BackendState.Parse<ProcessRecord>(state, r => r.Pid > 0);

    private static (string Subcommand, string App)? FindJupyter()
    {
        foreach (var (subcommand, app) in new[] { ("lab", "ServerApp"), ("notebook", "NotebookApp"), ("server", "ServerApp") })
        {
            if (OnPath($"jupyter-{subcommand}") is not null)
            {
                return (subcommand, app);
            }
        }

        return null;
    }

    public static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(folder => Path.Combine(folder, program))
            .FirstOrDefault(File.Exists);

    /// <summary>The <c>algorithm:salt:hex</c> form notebook 6 and jupyter_server 1 check: sha256 over password then salt.</summary>
    public static string HashPassword(string password)
    {
        var salt = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password + salt)));
        return $"sha256:{salt}:{hash}";
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string AddressOf(int port) => $"http://127.0.0.1:{port}";

    private const int SigTerm = 15;
    private const int SigKill = 9;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static extern int Kill(int pid, int signal);
}

/// <summary>Where the process backend keeps workspaces.</summary>
/// <param name="SdkPath">The folder holding <c>platformsdk</c>, put on the workloads' PYTHONPATH (null: none).</param>
public sealed record ProcessBackendOptions(string WorkspaceRoot, string? SdkPath = null);

/// <summary>The process backend's state: enough to find the process again and to tell it from a reused pid.</summary>
public sealed record ProcessRecord(int Pid, long StartTicks, int Port, DateTimeOffset StartedAt);
