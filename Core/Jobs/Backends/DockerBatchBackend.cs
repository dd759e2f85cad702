using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Platform.Core.Deployments.Backends;
using Platform.Core.Deployments.Backends.Docker;
using Platform.Core.Jobs.Scheduling;

namespace Platform.Core.Jobs.Backends;

/// <summary>
/// Job replicas as containers of a Docker Engine API (dockerd, or Podman's service), one per replica, named
/// <see cref="BatchSpec.Name"/> and labelled with the job, the replica, the owner and the account, so a restarted worker
/// finds and adopts them. Networking: <b>host</b> — every replica shares the node's network, so the endpoints the
/// reconciler hands out (node address and a port it chose free) are reached as given, with no port publishing and no
/// network to create; a replica listens on its <c>PLATFORM_PORT</c>. The working folder is a host folder per job
/// (<c>{root}/{job}/work</c>) bound at <c>/work</c>, so the reconciler reads <c>output/</c> from the host as for the
/// process backend; datasets are bound read-only at <c>/work/datasets/{name}</c>. A container that ends is kept (its exit
/// code and logs are read from it) until <see cref="CleanupAsync"/>.
/// </summary>
public sealed class DockerBatchBackend(DockerBatchOptions options) : IBatchBackend, IDisposable
{
    public const string BackendName = "docker";
    public const string JobLabel = "platform.job";
    public const string ReplicaLabel = "platform.replica";
    public const string ContainerWork = "/work";

    private readonly DockerEngineClient _engine = new(options.Socket, options.ApiVersion);

    public string Name => BackendName;

    public DockerEngineClient Engine => _engine;

    /// <summary>Where replicas see the output folder.</summary>
    public string ContainerOutputFolder => ContainerWork + "/output";

    public static DockerBatchOptions OptionsFrom(IConfiguration configuration)
    {
        var docker = DockerBackendOptions.From(configuration);
        return new DockerBatchOptions(
            docker.Socket,
            docker.ApiVersion,
            configuration["Platform:Jobs:DockerWorkRoot"] is { Length: > 0 } root ? root
            : configuration["Platform:DataDir"] is { Length: > 0 } data ? Path.Combine(data, "docker-jobs")
            : Path.Combine(Path.GetTempPath(), "platform-docker-jobs"),
            int.TryParse(configuration["Platform:Jobs:Node:Gpus"], CultureInfo.InvariantCulture, out var gpus) ? gpus : 0,
            int.TryParse(configuration["Platform:Jobs:Docker:PidsLimit"], CultureInfo.InvariantCulture, out var pids) && pids > 0 ? pids : 4096);
    }

    public string WorkFolderOf(Guid jobId) => Path.Combine(options.Root, jobId.ToString(), "work");

    public string? OutputFolderOf(Guid jobId) => Path.Combine(WorkFolderOf(jobId), "output");

    /// <summary>The engine's host as one node: its name, CPUs and memory from <c>/info</c>; GPUs as configured.</summary>
    public Task<IReadOnlyList<NodeCapacity>> NodesAsync(CancellationToken ct) => Engaged<IReadOnlyList<NodeCapacity>>(async () =>
    {
        var info = await _engine.InfoAsync(ct);
        var name = info.TryGetProperty("Name", out var n) && n.GetString() is { Length: > 0 } s ? s : "docker";
        var cpus = info.TryGetProperty("NCPU", out var c) && c.TryGetInt32(out var count) ? count : Environment.ProcessorCount;
        var memory = info.TryGetProperty("MemTotal", out var m) && m.TryGetInt64(out var bytes) ? bytes / (1024 * 1024) : 1024;
        return [new NodeCapacity(name, cpus, options.Gpus, memory)];
    });

    public Task<BatchStart> StartAsync(BatchSpec spec, string? state, CancellationToken ct) => Engaged(async () =>
    {
        var existing = await _engine.InspectContainerAsync(spec.Name, ct);
        if (existing is not null)
        {
            // Created but never started (a worker died in between): start it now; running or ended: adopt as it is.
            if (existing.State.Status == "created")
            {
                await _engine.StartContainerAsync(existing.Id, ct);
            }

            return new BatchStart(Serialize(new DockerBatchRecord(existing.Id)), Launched: existing.State.Status == "created");
        }

        var image = spec.Image ?? throw new WorkloadException("The docker backend runs images: give the job an image (its command runs inside it).");
        if (!await _engine.ImageExistsAsync(image, ct))
        {
            throw new WorkloadException($"The image '{image}' is not on the container engine; pull or build it first.");
        }

        var work = WorkFolderOf(spec.JobId);
        Directory.CreateDirectory(Path.Combine(work, "output"));
        Directory.CreateDirectory(Path.Combine(work, "datasets"));
        PrepareCode(spec.CodeFolder, work);
        OpenToAnyUser(work);
        string id;
        try
        {
            id = await _engine.CreateContainerAsync(spec.Name, CreateBody(spec, image, work), ct);
        }
        catch (DockerApiException ex) when (ex.Status == HttpStatusCode.Conflict)
        {
            // Another worker created it meanwhile: theirs is the replica.
            var theirs = await _engine.InspectContainerAsync(spec.Name, ct)
                ?? throw new WorkloadException($"The container {spec.Name} was created and removed by another worker at once; try again.");
            return new BatchStart(Serialize(new DockerBatchRecord(theirs.Id)), Launched: false);
        }

        try
        {
            await _engine.StartContainerAsync(id, ct);
        }
        catch (DockerApiException ex)
        {
            await _engine.RemoveContainerAsync(id, CancellationToken.None);
            throw new WorkloadException($"The container could not start: {ex.EngineMessage}");
        }

        return new BatchStart(Serialize(new DockerBatchRecord(id)), Launched: true);
    });

    public Task<BackendStatus> PollAsync(Guid jobId, string replica, string? state, CancellationToken ct) => Engaged(async () =>
    {
        var container = await _engine.InspectContainerAsync(Parse(state)?.ContainerId ?? BatchSpec.NameFor(jobId, replica), ct);
        if (container is null)
        {
            return new BackendStatus(WorkloadStatus.NotFound, Reason: "the container was removed");
        }

        if (container.State.Running || container.State.Status is "created" or "restarting" or "paused")
        {
            return BackendStatus.Running;
        }

        var code = container.State.ExitCode;
        var reason = container.State.OOMKilled ? $"exited with code {code} (killed for exceeding its memory limit: out of memory)"
            : code == 0 ? null : ProcessBatchBackend.ExitReason(code);
        return new BackendStatus(WorkloadStatus.Exited, code, reason);
    });

    /// <summary>Stops the container (TERM, then KILL after the grace) and keeps it for its exit code and logs.</summary>
    public Task StopAsync(Guid jobId, string replica, string? state, CancellationToken ct) => Engaged(async () =>
    {
        await _engine.StopContainerAsync(Parse(state)?.ContainerId ?? BatchSpec.NameFor(jobId, replica), options.StopGrace, ct);
        return true;
    });

    /// <summary>The engine keeps a container's whole log; the bytes before <paramref name="offset"/> are read and skipped.</summary>
    public Task<byte[]> ReadLogAsync(Guid jobId, string replica, string? state, long offset, int max, CancellationToken ct) => Engaged(async () =>
    {
        var name = Parse(state)?.ContainerId ?? BatchSpec.NameFor(jobId, replica);
        var container = await _engine.InspectContainerAsync(name, ct);
        if (container is null)
        {
            return Array.Empty<byte>();
        }

        var bytes = await _engine.LogBytesAsync(container.Id, container.Config.Tty, ct);
        return offset >= bytes.Length ? [] : bytes.AsSpan((int)offset, (int)Math.Min(max, bytes.Length - offset)).ToArray();
    });

    /// <summary>
    /// The engine's logger (Podman's conmon, dockerd) writes what the container printed; on a loaded machine it was seen
    /// more than 3 s behind the exit the engine already reported.
    /// </summary>
    public TimeSpan LogLag => TimeSpan.FromSeconds(10);

    public Task<string> LogTailAsync(Guid jobId, string replica, string? state, int lines, CancellationToken ct) => Engaged(async () =>
    {
        var container = await _engine.InspectContainerAsync(Parse(state)?.ContainerId ?? BatchSpec.NameFor(jobId, replica), ct);
        return container is null ? "" : (await _engine.LogsAsync(container.Id, lines, container.Config.Tty, ct)).TrimEnd('\n');
    });

    public IReadOnlyList<Guid> JobsKept() => JobFolders.In(options.Root);

    public DateTimeOffset LastChangeOf(Guid jobId) => JobFolders.LastChange(options.Root, jobId);

    /// <summary>Removes the job's containers (found by label) and its working folder.</summary>
    public async Task CleanupAsync(Guid jobId, CancellationToken ct)
    {
        await Engaged(async () =>
        {
            foreach (var container in await _engine.ListContainersAsync(JobLabel, jobId.ToString(), ct))
            {
                await _engine.RemoveContainerAsync(container.Id, ct);
            }

            return true;
        });
        var folder = Path.Combine(options.Root, jobId.ToString());
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private JsonObject CreateBody(BatchSpec spec, string image, string work)
    {
        var mounts = new JsonArray(new JsonObject { ["Type"] = "bind", ["Source"] = work, ["Target"] = ContainerWork });
        foreach (var mount in spec.Mounts)
        {
            Directory.CreateDirectory(Path.Combine(work, "datasets", mount.Name));
            mounts.Add(new JsonObject
            {
                ["Type"] = "bind", ["Source"] = mount.HostPath, ["Target"] = $"{ContainerWork}/datasets/{mount.Name}", ["ReadOnly"] = true,
            });
        }

        var host = new JsonObject
        {
            ["NetworkMode"] = "host",
            ["Mounts"] = mounts,
            ["NanoCpus"] = (long)Math.Round(spec.Cpus * 1e9),
            ["Memory"] = (long)spec.MemoryMiB * 1024 * 1024,
            // A fork without end stops at this many processes in the container, not at the node's.
            ["PidsLimit"] = options.PidsLimit,
            ["RestartPolicy"] = new JsonObject { ["Name"] = "no" },
        };
        if (spec.Gpus > 0)
        {
            host["DeviceRequests"] = new JsonArray(new JsonObject
            {
                ["Driver"] = "", ["Count"] = spec.Gpus, ["Capabilities"] = new JsonArray(new JsonArray("gpu")),
            });
        }

        var environment = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal) { ["PYTHONUNBUFFERED"] = "1" };
        return new JsonObject
        {
            ["Image"] = image,
            // No command: the image's own CMD runs (an empty Cmd would replace it).
            ["Cmd"] = spec.Command.Count > 0 ? new JsonArray(spec.Command.Select(c => (JsonNode?)c).ToArray()) : null,
            ["Env"] = new JsonArray(environment.Select(e => (JsonNode?)$"{e.Key}={e.Value}").ToArray()),
            ["Labels"] = new JsonObject(Labels(spec).Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            ["WorkingDir"] = ContainerWork,
            ["HostConfig"] = host,
        };
    }

    private static Dictionary<string, string> Labels(BatchSpec spec) => new(StringComparer.Ordinal)
    {
        [JobLabel] = spec.JobId.ToString(),
        [ReplicaLabel] = spec.Replica,
        ["platform.owner"] = spec.OwnerUserId.ToString(),
        ["platform.account"] = spec.AccountId.ToString(),
    };

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
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead
                    | (File.GetUnixFileMode(file).HasFlag(UnixFileMode.UserExecute) ? UnixFileMode.UserExecute | UnixFileMode.OtherExecute : 0));
            }
        }

        File.WriteAllText(marker, codeFolder);
    }

    /// <summary>
    /// The working folder and output/ writable by whatever user the image runs as (images rarely run as the engine host's
    /// user); the folder belongs to one job and is reached only through its containers and the platform.
    /// </summary>
    private static void OpenToAnyUser(string work)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        const UnixFileMode all = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead
            | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;
        File.SetUnixFileMode(work, all);
        File.SetUnixFileMode(Path.Combine(work, "output"), all);
    }

    /// <summary>Says in one sentence what the engine's absence or refusal means, instead of a socket exception.</summary>
    private async Task<T> Engaged<T>(Func<Task<T>> action)
    {
        try
        {
            return await action();
        }
        catch (HttpRequestException ex) when (ex.InnerException is SocketException || ex.HttpRequestError == HttpRequestError.ConnectionError)
        {
            throw new WorkloadException($"The container engine at unix://{options.Socket} does not answer ({ex.InnerException?.Message ?? ex.Message}); " +
                "is dockerd or `podman system service` running?");
        }
        catch (DockerApiException ex)
        {
            throw new WorkloadException($"The container engine refused: {ex.EngineMessage}");
        }
    }

    private static string Serialize(DockerBatchRecord record) => JsonSerializer.Serialize(record);

    private static DockerBatchRecord? Parse(string? state) => BackendState.Parse<DockerBatchRecord>(state, r => r.ContainerId is { Length: > 0 });

    public void Dispose() => _engine.Dispose();
}

/// <summary>The docker batch backend's state of a replica: its container.</summary>
public sealed record DockerBatchRecord(string ContainerId);

/// <summary>The engine's socket, where job working folders live on the engine's host, and limits every container gets.</summary>
public sealed record DockerBatchOptions(string Socket, string ApiVersion, string Root, int Gpus = 0, int PidsLimit = 4096)
{
    public TimeSpan StopGrace { get; init; } = TimeSpan.FromSeconds(10);
}
