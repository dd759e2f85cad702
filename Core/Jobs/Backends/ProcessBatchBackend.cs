using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Platform.Core.Catalog;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs.Scheduling;

namespace Platform.Core.Jobs.Backends;

/// <summary>
/// Job replicas as local process groups, each in a session of its own (setsid), so a restart of Workers leaves them
/// running and the next reconciler adopts them. Layout under the root: <c>{job}/work</c> is the working folder all the
/// job's replicas share (the code, <c>datasets/</c>, <c>output/</c>); <c>{job}/replicas/{replica}</c> is private to one
/// replica: its output log, its process record, its HOME, and the exit code a small shell wrapper writes when the
/// command ends (so an exit is known even when nobody waited for the process).
/// </summary>
public sealed class ProcessBatchBackend(ProcessBatchOptions options) : IBatchBackend
{
    public string Name => ProcessBackend.BackendName;

    public static ProcessBatchOptions OptionsFrom(IConfiguration configuration) => new(
        configuration["Platform:Jobs:WorkRoot"] is { Length: > 0 } root ? root
        : configuration["Platform:DataDir"] is { Length: > 0 } data ? Path.Combine(data, "jobs")
        : Path.Combine(Path.GetTempPath(), "platform-jobs"),
        configuration["Platform:Jobs:Node:Name"] is { Length: > 0 } name ? name : Environment.MachineName,
        double.TryParse(configuration["Platform:Jobs:Node:Cpus"], CultureInfo.InvariantCulture, out var cpus) ? cpus : null,
        int.TryParse(configuration["Platform:Jobs:Node:Gpus"], CultureInfo.InvariantCulture, out var gpus) ? gpus : null,
        long.TryParse(configuration["Platform:Jobs:Node:MemoryMiB"], CultureInfo.InvariantCulture, out var memory) ? memory : null,
        MaxLogBytesFrom(configuration),
        SdkLocation.Find(configuration),
        int.TryParse(configuration["Platform:Jobs:MaxProcesses"], CultureInfo.InvariantCulture, out var processes) && processes > 0
            ? processes : DefaultMaxProcesses);

    /// <summary>How many processes one replica may have at once (<c>Platform:Jobs:MaxProcesses</c>), held by a pids cgroup.</summary>
    public const int DefaultMaxProcesses = 4096;

    /// <summary>
    /// <c>Platform:Jobs:MaxLogBytes</c> (default 1 GiB): what one replica's log may hold, on the node's disk and in the object
    /// store alike.
    /// </summary>
    public static long MaxLogBytesFrom(IConfiguration configuration) =>
        long.TryParse(configuration["Platform:Jobs:MaxLogBytes"], CultureInfo.InvariantCulture, out var max) && max > 0 ? max : DefaultMaxLogBytes;

    public const long DefaultMaxLogBytes = 1L << 30;

    public string JobFolderOf(Guid jobId) => Path.Combine(options.Root, jobId.ToString());

    public string WorkFolderOf(Guid jobId) => Path.Combine(JobFolderOf(jobId), "work");

    public string ReplicaFolderOf(Guid jobId, string replica) => Path.Combine(JobFolderOf(jobId), "replicas", replica);

    public string LogOf(Guid jobId, string replica) => Path.Combine(ReplicaFolderOf(jobId, replica), "output.log");

    private string RecordOf(Guid jobId, string replica) => Path.Combine(ReplicaFolderOf(jobId, replica), "process.json");

    private string ExitFileOf(Guid jobId, string replica) => Path.Combine(ReplicaFolderOf(jobId, replica), "exit-code");

    public string? OutputFolderOf(Guid jobId) => Path.Combine(WorkFolderOf(jobId), "output");

    /// <summary>This machine, as configured (<c>Platform:Jobs:Node</c>) or as measured: its cores, memory and NVIDIA GPUs.</summary>
    public Task<IReadOnlyList<NodeCapacity>> NodesAsync(CancellationToken ct) =>
        Task.FromResult<IReadOnlyList<NodeCapacity>>([new NodeCapacity(
            options.NodeName,
            options.Cpus ?? Environment.ProcessorCount,
            options.Gpus ?? NvidiaGpuCount(),
            options.MemoryMiB ?? MemTotalMiB())]);

    public Task<BatchStart> StartAsync(BatchSpec spec, string? state, CancellationToken ct)
    {
        // Find before create: the record is written right after launching, so it survives a worker killed before the
        // database heard of the process; an exit file means the replica already ran to its end.
        var private_ = ReplicaFolderOf(spec.JobId, spec.Replica);
        foreach (var known in new[] { ReadRecord(spec.JobId, spec.Replica), Parse(state) })
        {
            if (known is not null && (ProcessBackend.IsAlive(known) || File.Exists(ExitFileOf(spec.JobId, spec.Replica))))
            {
                return Task.FromResult(new BatchStart(JsonSerializer.Serialize(known), Launched: false));
            }
        }

        if (spec.Image is not null)
        {
            throw new WorkloadException("The process backend runs commands on this machine, not images; submit without an image or use a container backend.");
        }

        if (spec.Command.Count == 0)
        {
            throw new WorkloadException("The job has no command to run.");
        }

        var work = WorkFolderOf(spec.JobId);
        var home = Path.Combine(private_, "home");
        Directory.CreateDirectory(home);
        Directory.CreateDirectory(Path.Combine(work, "output"));
        PrepareCode(spec.CodeFolder, work);
        ProcessBackend.LinkDatasets(work, spec.Mounts);

        var environment = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal)
        {
            ["HOME"] = home,
            ["PATH"] = Environment.GetEnvironmentVariable("PATH") ?? "/usr/local/bin:/usr/bin:/bin",
            ["LANG"] = "C.UTF-8",
            ["PYTHONUNBUFFERED"] = "1",
        };
        SdkLocation.AddTo(environment, options.SdkPath);
        var limits = ProcessBackend.Limits(new ResourceRequest(spec.Cpus, spec.Gpus, spec.MemoryMiB, 0));
        var record = Launch(spec, work, [.. limits.Prefix, .. spec.Command], environment, limits.Note);
        return Task.FromResult(new BatchStart(JsonSerializer.Serialize(record), Launched: true));
    }

    public Task<BackendStatus> PollAsync(Guid jobId, string replica, string? state, CancellationToken ct)
    {
        var record = Parse(state) ?? ReadRecord(jobId, replica);
        if (record is null)
        {
            return Task.FromResult(new BackendStatus(WorkloadStatus.NotFound, Reason: "no process was recorded"));
        }

        if (ProcessBackend.IsAlive(record))
        {
            // The command itself has ended when the wrapper's temporary exit file is there: the wrapper may live on while
            // children the command left behind keep the log pipe open. The replica has ended; a stop reaches them.
            return Task.FromResult(ReadExitCode(jobId, replica, pending: true) is { } ended
                ? new BackendStatus(WorkloadStatus.Exited, ended, ended == 0 ? null : ExitReason(ended))
                : BackendStatus.Running);
        }

        // The wrapper writes the exit code when the command ends; a process killed with its wrapper (a stop, the OOM
        // killer, a reboot) leaves none.
        PidsCgroup.Remove(BatchSpec.NameFor(jobId, replica));
        return Task.FromResult(ReadExitCode(jobId, replica) is { } code
            ? new BackendStatus(WorkloadStatus.Exited, code, code == 0 ? null : ExitReason(code))
            : new BackendStatus(WorkloadStatus.Exited, Reason: $"process {record.Pid} ended without an exit code (killed)"));
    }

    public async Task StopAsync(Guid jobId, string replica, string? state, CancellationToken ct)
    {
        foreach (var record in new[] { Parse(state), ReadRecord(jobId, replica) }.OfType<ProcessRecord>().DistinctBy(r => (r.Pid, r.StartTicks)))
        {
            await ProcessBackend.StopProcessAsync(record);
        }

        // What left the process group (a daemonized child) is still in the replica's cgroup.
        await PidsCgroup.KillAndRemoveAsync(BatchSpec.NameFor(jobId, replica));
    }

    public async Task<byte[]> ReadLogAsync(Guid jobId, string replica, string? state, long offset, int max, CancellationToken ct)
    {
        var log = LogOf(jobId, replica);
        if (!File.Exists(log))
        {
            return [];
        }

        await using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        if (offset >= stream.Length)
        {
            return [];
        }

        stream.Seek(offset, SeekOrigin.Begin);
        var buffer = new byte[(int)Math.Min(max, stream.Length - offset)];
        var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct);
        return read == buffer.Length ? buffer : buffer[..read];
    }

    /// <summary>The replica's output goes straight into its log file: nothing is left on its way at exit.</summary>
    public TimeSpan LogLag => TimeSpan.Zero;

    public Task<string> LogTailAsync(Guid jobId, string replica, string? state, int lines, CancellationToken ct) =>
        Task.FromResult(ProcessBackend.TailOf(LogOf(jobId, replica), lines));

    public IReadOnlyList<Guid> JobsKept() => JobFolders.In(options.Root);

    public DateTimeOffset LastChangeOf(Guid jobId) => JobFolders.LastChange(options.Root, jobId);

    public async Task CleanupAsync(Guid jobId, CancellationToken ct)
    {
        var replicas = Path.Combine(JobFolderOf(jobId), "replicas");
        if (Directory.Exists(replicas))
        {
            foreach (var folder in Directory.GetDirectories(replicas))
            {
                await StopAsync(jobId, Path.GetFileName(folder), null, ct);
            }
        }

        if (Directory.Exists(JobFolderOf(jobId)))
        {
            MakeWritable(JobFolderOf(jobId));
            Directory.Delete(JobFolderOf(jobId), recursive: true);
        }
    }

    /// <summary>What a non-zero exit code says: 127 is the shell's "command not found", above 128 a signal.</summary>
    public static string ExitReason(int code) => code switch
    {
        127 => "exited with code 127 (command not found)",
        126 => "exited with code 126 (the command is not executable)",
        137 => "exited with code 137 (killed: out of memory, or a stop)",
        > 128 => $"exited with code {code} (signal {code - 128})",
        _ => $"exited with code {code}",
    };

    private ProcessRecord Launch(BatchSpec spec, string work, List<string> command, Dictionary<string, string> environment, string note)
    {
        var log = LogOf(spec.JobId, spec.Replica);
        var exitFile = ExitFileOf(spec.JobId, spec.Replica);
        File.Delete(exitFile);
        // The wrapper joins the cgroup first thing, before the command runs, so everything it starts is counted (and
        // found by a stop).
        var cgroup = PidsCgroup.Create(spec.Name, options.MaxProcesses) ?? "";
        note += cgroup.Length > 0
            ? $"; at most {options.MaxProcesses} processes (pids cgroup)"
            : "; no pids cgroup here (not root, or no pids controller): the process count is prlimit's, per user";
        File.AppendAllText(log, $"--- {DateTimeOffset.UtcNow:O} {spec.Replica} starting: {string.Join(' ', spec.Command)}\n--- {note}\n");
        var setsid = ProcessBackend.OnPath("setsid") ?? throw new WorkloadException("setsid is not installed on this machine (util-linux).");
        // setsid execs the wrapper in place (the child is not a group leader), so the pid is the wrapper's, leader of a
        // new session and group. The command's output goes through a pipe into a bounded writer: head -c copies exactly
        // the first MaxLogBytes bytes to the log (under stdbuf -o0, so each read is written at once and lines show up
        // live; dd would count partial pipe reads as blocks and stop early); past them one line says so and cat drains
        // the rest to /dev/null, so the command goes on (it never meets a closed pipe) while the disk does not fill. The
        // exit code is the command's, not the pipeline's (sh has no pipefail): the left side of the pipe writes it to a
        // temporary file right after the command ends, and the wrapper renames it into place (atomically) once the pipe
        // is drained, for PollAsync to find.
        const string wrapper = "log=$1; ex=$2; cap=$3; cg=$4; shift 4; rm -f \"$ex.tmp\"; "
            + "[ -n \"$cg\" ] && echo $$ >\"$cg/cgroup.procs\"; "
            + "unbuffered=; command -v stdbuf >/dev/null 2>&1 && unbuffered='stdbuf -o0'; "
            + "{ \"$@\" </dev/null 2>&1; echo $? >\"$ex.tmp\"; } | "
            + "{ $unbuffered head -c \"$cap\"; if [ \"$(dd bs=1 count=1 2>/dev/null | wc -c)\" -gt 0 ]; then "
            + "printf '\\n[log truncated at %s bytes: the job goes on]\\n' \"$cap\"; cat >/dev/null; fi; } >>\"$log\"; "
            + "[ -f \"$ex.tmp\" ] && mv \"$ex.tmp\" \"$ex\"";
        var start = new ProcessStartInfo(setsid) { WorkingDirectory = work, UseShellExecute = false };
        foreach (var argument in new[] { "/bin/sh", "-c", wrapper, "sh", log, exitFile, options.MaxLogBytes.ToString(CultureInfo.InvariantCulture), cgroup }.Concat(command))
        {
            start.ArgumentList.Add(argument);
        }

        // A clean environment: the worker's own (database connection strings) is none of the job's business.
        start.Environment.Clear();
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        // No await from here to the record being written: cancellation cannot land between launching and recording.
        using var process = Process.Start(start) ?? throw new WorkloadException("The process could not be started.");
        var record = new ProcessRecord(process.Id, ProcessBackend.StartTicks(process.Id) ?? 0, spec.Port, DateTimeOffset.UtcNow);
        var temporary = RecordOf(spec.JobId, spec.Replica) + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(record));
        File.Move(temporary, RecordOf(spec.JobId, spec.Replica), overwrite: true);
        return record;
    }

    /// <summary>The code folder's files copied into the working folder once per job (a marker says it is done).</summary>
    private static void PrepareCode(string? codeFolder, string work)
    {
        var marker = Path.Combine(work, ".platform-code");
        if (codeFolder is null || File.Exists(marker))
        {
            return;
        }

        foreach (var file in Directory.EnumerateFiles(codeFolder, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(work, Path.GetRelativePath(codeFolder, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target, overwrite: true);
            if (OperatingSystem.IsWindows())
            {
                continue;
            }

            File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead
                | (File.GetUnixFileMode(file).HasFlag(UnixFileMode.UserExecute) ? UnixFileMode.UserExecute : 0));
        }

        File.WriteAllText(marker, codeFolder);
    }

    private static void MakeWritable(string folder)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var entry in new DirectoryInfo(folder).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (entry.LinkTarget is null && entry is DirectoryInfo)
            {
                entry.UnixFileMode |= UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            }
        }
    }

    private int? ReadExitCode(Guid jobId, string replica, bool pending = false)
    {
        try
        {
            var file = ExitFileOf(jobId, replica) + (pending ? ".tmp" : "");
            // A file being written reads empty or partial: not a code yet.
            return File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), CultureInfo.InvariantCulture, out var code) ? code : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private ProcessRecord? ReadRecord(Guid jobId, string replica)
    {
        try
        {
            return Parse(File.ReadAllText(RecordOf(jobId, replica)));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static ProcessRecord? Parse(string? state) => BackendState.Parse<ProcessRecord>(state, r => r.Pid > 0);

    private static long MemTotalMiB()
    {
        try
        {
            var line = File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or FormatException)
        {
            return 1024;
        }
    }

    /// <summary>GPUs <c>nvidia-smi -L</c> lists, or 0 where it is not installed.</summary>
    private static int NvidiaGpuCount()
    {
        if (ProcessBackend.OnPath("nvidia-smi") is not { } smi)
        {
            return 0;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(smi, "-L") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit(5000);
            return output.Split('\n').Count(l => l.StartsWith("GPU ", StringComparison.Ordinal));
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return 0;
        }
    }
}

/// <summary>Where the process backend keeps job folders, and this node's capacity where it is not measured.</summary>
/// <param name="MaxLogBytes">The most one replica's output log keeps on disk; beyond it the output is discarded (the command goes on).</param>
/// <param name="SdkPath">The folder holding <c>platformsdk</c>, put on the replicas' PYTHONPATH (null: none).</param>
/// <param name="MaxProcesses">The most processes one replica may have at once (a pids cgroup where one can be made).</param>
public sealed record ProcessBatchOptions(
    string Root, string NodeName, double? Cpus = null, int? Gpus = null, long? MemoryMiB = null, long MaxLogBytes = ProcessBatchBackend.DefaultMaxLogBytes,
    string? SdkPath = null, int MaxProcesses = ProcessBatchBackend.DefaultMaxProcesses);
