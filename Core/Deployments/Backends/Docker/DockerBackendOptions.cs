using Microsoft.Extensions.Configuration;

namespace Platform.Core.Deployments.Backends.Docker;

/// <summary>
/// Where the docker backend finds the engine and how it lays out a container.
/// </summary>
/// <param name="Socket">The engine's unix socket: <c>Compute:Docker:Socket</c>, else the path of a unix:// <c>DOCKER_HOST</c>,
/// else Podman's rootful socket when it exists, else <c>/var/run/docker.sock</c>.</param>
/// <param name="ApiVersion">The Engine API version in every path (<c>Compute:Docker:ApiVersion</c>, v1.41: Podman 4 and Docker 20.10 on).</param>
/// <param name="Workspace">The folder in the container the workspace volume is mounted on (the images' working folder).</param>
/// <param name="StopGrace">How long a container has after SIGTERM before it is killed.</param>
public sealed record DockerBackendOptions(string Socket, string ApiVersion = "v1.41", string Workspace = "/home/platform/work", TimeSpan StopGrace = default)
{
    public const string PodmanSocket = "/run/podman/podman.sock";
    public const string DockerSocket = "/var/run/docker.sock";

    public TimeSpan StopGrace { get; init; } = StopGrace == default ? TimeSpan.FromSeconds(10) : StopGrace;

    public static DockerBackendOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Compute:Docker");
        var socket = section["Socket"] is { Length: > 0 } configured ? configured : DefaultSocket(Environment.GetEnvironmentVariable("DOCKER_HOST"));
        return new DockerBackendOptions(
            socket.StartsWith("unix://", StringComparison.Ordinal) ? socket["unix://".Length..] : socket,
            section["ApiVersion"] is { Length: > 0 } version ? version : "v1.41",
            section["Workspace"] is { Length: > 0 } workspace ? workspace : "/home/platform/work");
    }

    public static string DefaultSocket(string? dockerHost) =>
        dockerHost is { Length: > 0 } && dockerHost.StartsWith("unix://", StringComparison.Ordinal) ? dockerHost["unix://".Length..]
        : File.Exists(PodmanSocket) ? PodmanSocket
        : DockerSocket;
}
