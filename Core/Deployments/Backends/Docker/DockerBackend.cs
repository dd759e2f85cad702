using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Platform.Core.Catalog;

namespace Platform.Core.Deployments.Backends.Docker;

/// <summary>
/// Runs each deployment as a container of its module's image through the Docker Engine API (dockerd, or Podman's
/// API service). The container is named <see cref="WorkloadSpec.Name"/> and labelled <c>platform.deployment=&lt;id&gt;</c>;
/// the workspace is a named volume (<c>platform-&lt;id&gt;-work</c>) mounted at the image's working folder, kept when the
/// deployment stops and removed when it is deleted. The service listens on port 8888 inside, published on 127.0.0.1
/// only, on a port the engine picks. Stopping removes the container (the volume stays): a container carries the
/// credentials of the start that created it, so every start that does not adopt a running one creates a fresh one.
/// </summary>
public sealed class DockerBackend(DockerBackendOptions options) : IComputeBackend, IDisposable
{
    public const string BackendName = "docker";
    public const string DeploymentLabel = "platform.deployment";
    private const int ServicePort = 8888;
    private const string PasswordVariable = "PLATFORM_JUPYTER_PASSWORD";
    private const string TokenVariable = "PLATFORM_JUPYTER_TOKEN";

    private readonly DockerEngineClient _engine = new(options.Socket, options.ApiVersion);

    public string Name => BackendName;

    public DockerEngineClient Engine => _engine;

    public static string VolumeOf(Guid deploymentId) => $"platform-{deploymentId:N}-work";

    public async Task<BackendStart> StartAsync(WorkloadSpec spec, string? state, IProgress<string> progress, CancellationToken ct)
    {
        return await Engaged(async () =>
        {
            var existing = await _engine.InspectContainerAsync(spec.Name, ct);
            if (existing is not null && existing.State.Running && PortOf(existing) is { } port)
            {
                progress.Report($"Adopted the running container {spec.Name} on port {port}");
                return new BackendStart(Serialize(new DockerRecord(existing.Id, VolumeOf(spec.DeploymentId), port)), AddressOf(port), Launched: false);
            }

            if (existing is not null)
            {
                // Created or exited by an earlier start whose credentials are no longer the ones being recorded.
                await _engine.RemoveContainerAsync(existing.Id, ct);
                progress.Report($"Removed the {existing.State.Status} container of an earlier start");
            }

            var image = spec.Image ?? throw new WorkloadException($"The module '{spec.Module}' names no container image for this hardware.");
            if (!await _engine.ImageExistsAsync(image, ct))
            {
                throw new WorkloadException($"The image '{image}' is not on the container engine; build it with Notebook/images/build.sh or pull it.");
            }

            var volume = VolumeOf(spec.DeploymentId);
            if (!await _engine.VolumeExistsAsync(volume, ct))
            {
                await _engine.CreateVolumeAsync(volume, Labels(spec), ct);
                progress.Report($"Created the workspace volume {volume}");
            }

            var id = await _engine.CreateContainerAsync(spec.Name, CreateBody(spec, image, volume), ct);
            try
            {
                await _engine.StartContainerAsync(id, ct);
            }
            catch (DockerApiException ex)
            {
                await _engine.RemoveContainerAsync(id, CancellationToken.None);
                throw new WorkloadException($"The container could not start: {ex.EngineMessage}");
            }

            var started = await _engine.InspectContainerAsync(id, ct);
            var chosen = started is null ? null : PortOf(started);
            if (chosen is null)
            {
                var why = started is null ? "it is gone" : $"it is {started.State.Status}";
                throw new WorkloadException($"The container started but publishes no port ({why}). {await LogTailAsync(spec.DeploymentId, ct)}".Trim());
            }

            progress.Report(LimitsNote(spec.Resources));
            progress.Report($"Launched the container {spec.Name} from {image} on port {chosen}");
            return new BackendStart(Serialize(new DockerRecord(id, volume, chosen.Value)), AddressOf(chosen.Value), Launched: true);
        });
    }

    public Task<BackendStatus> PollAsync(Guid deploymentId, string? state, CancellationToken ct) =>
        Engaged(() => PollEngineAsync(deploymentId, state, ct));

    private async Task<BackendStatus> PollEngineAsync(Guid deploymentId, string? state, CancellationToken ct)
    {
        var container = await _engine.InspectContainerAsync(Parse(state)?.ContainerId ?? WorkloadSpec.NameFor(deploymentId), ct);
        if (container is null)
        {
            return new BackendStatus(WorkloadStatus.NotFound, Reason: "the container was removed");
        }

        if (container.State.Running)
        {
            return BackendStatus.Running;
        }

        var how = container.State.OOMKilled ? "killed for exceeding its memory limit" : container.State.Status;
        return new BackendStatus(WorkloadStatus.Exited, container.State.ExitCode, $"the container is {how}. {await TailOfAsync(container, ct)}".Trim());
    }

    public async Task StopAsync(Guid deploymentId, string? state, CancellationToken ct)
    {
        await Engaged(async () =>
        {
            foreach (var id in await ContainersOfAsync(deploymentId, state, ct))
            {
                await _engine.StopContainerAsync(id, options.StopGrace, ct);
                await _engine.RemoveContainerAsync(id, ct);
            }

            return true;
        });
    }

    public async Task DeleteAsync(Guid deploymentId, string? state, CancellationToken ct)
    {
        await StopAsync(deploymentId, state, ct);
        await Engaged(async () =>
        {
            await _engine.RemoveVolumeAsync(Parse(state)?.Volume ?? VolumeOf(deploymentId), ct);
            return true;
        });
    }

    public Task<string> LogTailAsync(Guid deploymentId, CancellationToken ct) => Engaged(async () =>
    {
        var container = await _engine.InspectContainerAsync(WorkloadSpec.NameFor(deploymentId), ct);
        return container is null ? "" : await TailOfAsync(container, ct);
    });

    /// <summary>The container's last 15 lines of output, stdout and stderr interleaved, as "Last log lines:" text.</summary>
    private async Task<string> TailOfAsync(ContainerInspect container, CancellationToken ct)
    {
        var tail = (await _engine.LogsAsync(container.Id, 15, container.Config.Tty, ct)).TrimEnd();
        return tail.Length > 0 ? "Last log lines:\n" + tail : "";
    }

    /// <summary>The container by name and any other labelled with the deployment (a name changed by hand).</summary>
    private async Task<IReadOnlyList<string>> ContainersOfAsync(Guid deploymentId, string? state, CancellationToken ct)
    {
        var ids = new List<string>();
        if (await _engine.InspectContainerAsync(WorkloadSpec.NameFor(deploymentId), ct) is { } named)
        {
            ids.Add(named.Id);
        }

        ids.AddRange((await _engine.ListContainersAsync(DeploymentLabel, deploymentId.ToString(), ct)).Select(c => c.Id));
        if (Parse(state)?.ContainerId is { } recorded)
        {
            ids.Add(recorded);
        }

        return ids.Distinct().ToList();
    }

    private JsonObject CreateBody(WorkloadSpec spec, string image, string volume)
    {
        var workspace = options.Workspace.TrimEnd('/');
        var environment = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal);
        var command = spec.Service switch
        {
            ModuleService.Jupyter => JupyterCommand(spec, workspace, environment),
            ModuleService.VsCode => CodeServerCommand(spec, workspace, environment),
            ModuleService.Api => ApiCommand(spec, environment),
            _ => throw new WorkloadException($"The docker backend cannot run '{spec.Service}'."),
        };

        var mounts = new JsonArray { new JsonObject { ["Type"] = "volume", ["Source"] = volume, ["Target"] = workspace } };
        foreach (var mount in spec.Mounts)
        {
            mounts.Add(new JsonObject
            {
                ["Type"] = "bind", ["Source"] = mount.HostPath, ["Target"] = $"{workspace}/datasets/{mount.Name}", ["ReadOnly"] = true,
            });
        }

        var port = $"{ServicePort}/tcp";
        var host = new JsonObject
        {
            ["Mounts"] = mounts,
            // 127.0.0.1 only: the front door is the one way in. An empty host port lets the engine pick a free one.
            ["PortBindings"] = new JsonObject { [port] = new JsonArray(new JsonObject { ["HostIp"] = "127.0.0.1", ["HostPort"] = "" }) },
            ["NanoCpus"] = (long)Math.Round(spec.Resources.Cpus * 1e9),
            ["Memory"] = (long)spec.Resources.MemoryMiB * 1024 * 1024,
            ["RestartPolicy"] = new JsonObject { ["Name"] = "no" },
        };
        if (spec.Resources.Gpus > 0)
        {
            // What `docker run --gpus N` sends; needs the NVIDIA container toolkit on the engine's host.
            host["DeviceRequests"] = new JsonArray(new JsonObject
            {
                ["Driver"] = "", ["Count"] = spec.Resources.Gpus, ["Capabilities"] = new JsonArray(new JsonArray("gpu")),
            });
        }

        // Jupyter's shell replaces the image's entrypoint (it must be PID 1 to keep the secrets out of every
        // environment; an image CMD an engine appends lands in arguments it ignores); other services run under the
        // image's own entrypoint.
        return new JsonObject
        {
            ["Image"] = image,
            // An image of the user's own with no command given runs its own CMD (an empty Cmd would replace it).
            [spec.Service == ModuleService.Jupyter ? "Entrypoint" : "Cmd"] = command.Count > 0 ? new JsonArray(command.Select(c => (JsonNode?)c).ToArray()) : null,
            ["Env"] = new JsonArray(environment.Select(e => (JsonNode?)$"{e.Key}={e.Value}").ToArray()),
            ["Labels"] = new JsonObject(Labels(spec).Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
            ["WorkingDir"] = workspace,
            ["ExposedPorts"] = new JsonObject { [port] = new JsonObject() },
            ["HostConfig"] = host,
        };
    }

    /// <summary>
    /// Jupyter, told its password hash and token through two variables that the shell writes into a config file and
    /// unsets before exec, so neither is on a command line nor in Jupyter's or its kernels' environment (they stay in
    /// the container's configuration, which only those with the engine's socket, root in effect, read). The shell is the
    /// entrypoint (PID 1), replacing the image's, and execs tini in front of Jupyter when the image has it (signals,
    /// orphaned kernels). Works with any image holding notebook 6, jupyter_server or JupyterLab.
    /// </summary>
    private static List<string> JupyterCommand(WorkloadSpec spec, string workspace, Dictionary<string, string> environment)
    {
        environment[PasswordVariable] = ProcessBackend.HashPassword(spec.Password);
        environment[TokenVariable] = spec.ServiceToken;
        const string script = """
            set -e
            if command -v jupyter-lab >/dev/null; then sub=lab app=ServerApp dir=root_dir
            elif command -v jupyter-notebook >/dev/null; then sub=notebook app=NotebookApp dir=notebook_dir
            else sub=server app=ServerApp dir=root_dir; fi
            config="$(mktemp -d)/platform_config.py"
            umask 077
            printf "c.%s.password = '%s'\nc.%s.token = '%s'\nc.%s.password_required = True\n" \
              "$app" "$PLATFORM_JUPYTER_PASSWORD" "$app" "$PLATFORM_JUPYTER_TOKEN" "$app" > "$config"
            unset PLATFORM_JUPYTER_PASSWORD PLATFORM_JUPYTER_TOKEN
            root=""; [ "$(id -u)" = 0 ] && root=--allow-root
            init=""; command -v tini >/dev/null && init="tini --"
            exec $init jupyter "$sub" --config="$config" --no-browser --ip=0.0.0.0 --port=8888 --port-retries=0 \
              "--$app.base_url=$1" "--$app.$dir=$2" $root
            """;
        return ["/bin/sh", "-c", script, "platform-jupyter", spec.BaseUrl, workspace];
    }

    private static List<string> CodeServerCommand(WorkloadSpec spec, string workspace, Dictionary<string, string> environment)
    {
        environment["PASSWORD"] = spec.Password;
        return ["code-server", "--bind-addr", $"0.0.0.0:{ServicePort}", "--auth", "password", "--disable-telemetry", workspace];
    }

    private static List<string> ApiCommand(WorkloadSpec spec, Dictionary<string, string> environment)
    {
        if (spec.ApiCommand is not { Count: > 0 } command && !spec.OwnImage)
        {
            throw new WorkloadException($"The module '{spec.Module}' has no API command.");
        }

        // Inside a container the published port reaches the container's own address, not its loopback.
        environment["HOST"] = "0.0.0.0";
        environment["PORT"] = ServicePort.ToString(CultureInfo.InvariantCulture);
        environment["BASE_PATH"] = spec.BaseUrl;
        return spec.ApiCommand is { Count: > 0 } given ? [.. given] : [];
    }

    private static Dictionary<string, string> Labels(WorkloadSpec spec) => new(StringComparer.Ordinal)
    {
        [DeploymentLabel] = spec.DeploymentId.ToString(),
        ["platform.owner"] = spec.OwnerUserId.ToString(),
        ["platform.account"] = spec.AccountId.ToString(),
        ["platform.module"] = spec.Module,
        ["platform.service"] = spec.Service.ToString().ToLowerInvariant(),
    };

    private static string LimitsNote(ResourceRequest r) =>
        $"Limits: {r.Cpus.ToString(CultureInfo.InvariantCulture)} CPUs, {r.MemoryMiB} MiB of memory" +
        (r.Gpus > 0 ? $", {r.Gpus} GPUs" : "") + " (container cgroups); disk is not limited by the docker backend";

    private static int? PortOf(ContainerInspect container) =>
        container.NetworkSettings?.Ports is { } ports && ports.TryGetValue($"{ServicePort}/tcp", out var bindings)
            && bindings?.FirstOrDefault(b => int.TryParse(b.HostPort, out var p) && p > 0) is { } binding
            ? int.Parse(binding.HostPort!, CultureInfo.InvariantCulture)
            : null;

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

    private static string AddressOf(int port) => $"http://127.0.0.1:{port}";

    private static string Serialize(DockerRecord record) => JsonSerializer.Serialize(record);

    private static DockerRecord? Parse(string? state) => BackendState.Parse<DockerRecord>(state, r => r.ContainerId is { Length: > 0 });

    public void Dispose() => _engine.Dispose();
}

/// <summary>The docker backend's state: the container, its workspace volume and the host port it was published on.</summary>
public sealed record DockerRecord(string ContainerId, string Volume, int Port);
