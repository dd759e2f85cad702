using System.Buffers.Binary;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Platform.Core.Deployments.Backends.Docker;

/// <summary>
/// The few Docker Engine API calls the docker backend makes, over the engine's unix socket (dockerd, or Podman's
/// <c>podman system service</c>, which serves the same API). Paths carry the API version (<c>/v1.41</c>, what Podman 4
/// speaks) so a newer engine answers as that version. A 404 on an inspect is "not there" (null); any other non-2xx
/// throws <see cref="DockerApiException"/> with the engine's own message; a socket that does not answer throws
/// <see cref="HttpRequestException"/>.
/// </summary>
public sealed class DockerEngineClient : IDisposable
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNameCaseInsensitive = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly string _prefix;

    public DockerEngineClient(string socketPath, string apiVersion = "v1.41", TimeSpan? timeout = null)
    {
        SocketPath = socketPath;
        _prefix = "/" + apiVersion.TrimStart('/');
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        };
        // The host name is never resolved (the connect callback ignores it); it is what the Host header says.
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://docker"), Timeout = timeout ?? TimeSpan.FromSeconds(100) };
    }

    public string SocketPath { get; }

    /// <summary>The engine's version document (Podman answers with its own and the API version it serves).</summary>
    public async Task<JsonElement> VersionAsync(CancellationToken ct) =>
        await SendAsync<JsonElement>(HttpMethod.Get, "/version", null, ct);

    public async Task<ContainerInspect?> InspectContainerAsync(string nameOrId, CancellationToken ct) =>
        await GetOrNullAsync<ContainerInspect>($"/containers/{Uri.EscapeDataString(nameOrId)}/json", ct);

    /// <summary>One reading of a container's counters (<c>stream=false</c>): CPU, memory, network, block I/O; null when it is gone.</summary>
    public async Task<JsonElement?> StatsAsync(string nameOrId, CancellationToken ct) =>
        await GetOrNullAsync<JsonElement?>($"/containers/{Uri.EscapeDataString(nameOrId)}/stats?stream=false", ct);

    /// <summary>All containers (running or not) carrying the label <c>key=value</c>.</summary>
    public async Task<IReadOnlyList<ContainerSummary>> ListContainersAsync(string key, string value, CancellationToken ct)
    {
        var filters = JsonSerializer.Serialize(new Dictionary<string, string[]> { ["label"] = [$"{key}={value}"] });
        return await SendAsync<List<ContainerSummary>>(HttpMethod.Get, $"/containers/json?all=true&filters={Uri.EscapeDataString(filters)}", null, ct) ?? [];
    }

    /// <summary>Creates a container from a Docker create body (<c>Image</c>, <c>Cmd</c>, <c>HostConfig</c>…); returns its id.</summary>
    public async Task<string> CreateContainerAsync(string name, JsonObject body, CancellationToken ct)
    {
        var created = await SendAsync<JsonElement>(HttpMethod.Post, $"/containers/create?name={Uri.EscapeDataString(name)}", body, ct);
        return created.GetProperty("Id").GetString()!;
    }

    /// <summary>Starts a container; one already running is success (304).</summary>
    public Task StartContainerAsync(string id, CancellationToken ct) =>
        SendAsync<JsonElement?>(HttpMethod.Post, $"/containers/{Uri.EscapeDataString(id)}/start", null, ct, HttpStatusCode.NotModified);

    /// <summary>Stops a container (SIGTERM, then SIGKILL after <paramref name="grace"/>); stopped or gone is success.</summary>
    public Task StopContainerAsync(string id, TimeSpan grace, CancellationToken ct) =>
        SendAsync<JsonElement?>(HttpMethod.Post, $"/containers/{Uri.EscapeDataString(id)}/stop?t={(int)grace.TotalSeconds}", null, ct,
            HttpStatusCode.NotModified, HttpStatusCode.NotFound);

    /// <summary>Removes a container, killing it if it runs, keeping its named volumes; gone already is success.</summary>
    public Task RemoveContainerAsync(string id, CancellationToken ct) =>
        SendAsync<JsonElement?>(HttpMethod.Delete, $"/containers/{Uri.EscapeDataString(id)}?force=true", null, ct, HttpStatusCode.NotFound);

    /// <summary>The last <paramref name="lines"/> lines of a container's output, stdout and stderr in the order written.</summary>
    public async Task<string> LogsAsync(string id, int lines, bool tty, CancellationToken ct)
    {
        var text = await ReadLastLinesAsync(id, $"&tail={lines}", lines, tty, ct);
        // Podman 4's tail reader can come back empty for a container that just exited although its log file holds
        // lines (podman#18501); the whole log, read as a stream, keeping only the last lines, does not miss them.
        return text.Length > 0 || lines <= 0 ? text : await ReadLastLinesAsync(id, "", lines, tty, ct);
    }

    private async Task<string> ReadLastLinesAsync(string id, string tail, int lines, bool tty, CancellationToken ct)
    {
        using var response = await _http.GetAsync($"{_prefix}/containers/{Uri.EscapeDataString(id)}/logs?stdout=true&stderr=true{tail}",
            HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return "";
        }

        await EnsureSuccessAsync(response, ct);
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        return await LastLinesAsync(stream, lines, tty, ct);
    }

    /// <summary>
    /// The last <paramref name="lines"/> lines of a log stream (multiplexed frames unless <paramref name="tty"/>),
    /// read through once, holding no more than those lines and the frame being read.
    /// </summary>
    public static async Task<string> LastLinesAsync(Stream stream, int lines, bool tty, CancellationToken ct)
    {
        var kept = new Queue<byte[]>();
        var current = new MemoryStream();
        var buffer = new byte[16 * 1024];

        void Take(ReadOnlySpan<byte> payload)
        {
            while (payload.Length > 0)
            {
                var end = payload.IndexOf((byte)'\n');
                if (end < 0)
                {
                    current.Write(payload);
                    return;
                }

                current.Write(payload[..end]);
                kept.Enqueue(current.ToArray());
                current.SetLength(0);
                if (kept.Count > lines)
                {
                    kept.Dequeue();
                }

                payload = payload[(end + 1)..];
            }
        }

        var raw = tty;
        var header = new byte[8];
        while (!raw)
        {
            var got = await ReadFullyAsync(stream, header, ct);
            if (got < 8 || header[0] > 2 || header[1] != 0 || header[2] != 0 || header[3] != 0)
            {
                // Not a frame header (an engine that sends plain text): the rest is taken as it is, as Demultiplex does.
                Take(header.AsSpan(0, got));
                raw = got == 8;
                break;
            }

            var remaining = (long)BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(4, 4));
            while (remaining > 0)
            {
                var read = await stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, remaining)), ct);
                if (read == 0)
                {
                    break;
                }

                Take(buffer.AsSpan(0, read));
                remaining -= read;
            }
        }

        int rest;
        while (raw && (rest = await stream.ReadAsync(buffer, ct)) > 0)
        {
            Take(buffer.AsSpan(0, rest));
        }

        if (current.Length > 0)
        {
            kept.Enqueue(current.ToArray());
            if (kept.Count > lines)
            {
                kept.Dequeue();
            }
        }

        return string.Join('\n', kept.Select(line => Encoding.UTF8.GetString(line)));
    }

    private static async Task<int> ReadFullyAsync(Stream stream, byte[] into, CancellationToken ct)
    {
        var filled = 0;
        while (filled < into.Length)
        {
            var read = await stream.ReadAsync(into.AsMemory(filled), ct);
            if (read == 0)
            {
                break;
            }

            filled += read;
        }

        return filled;
    }

    /// <summary>A container's whole output so far as bytes, stdout and stderr in the order written (demultiplexed unless a TTY).</summary>
    public async Task<byte[]> LogBytesAsync(string id, bool tty, CancellationToken ct)
    {
        using var response = await _http.GetAsync($"{_prefix}/containers/{Uri.EscapeDataString(id)}/logs?stdout=true&stderr=true", ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return [];
        }

        await EnsureSuccessAsync(response, ct);
        var bytes = await response.Content.ReadAsByteArrayAsync(ct);
        return tty ? bytes : DemultiplexBytes(bytes);
    }

    /// <summary>The payloads of a multiplexed log stream, headers left out (as <see cref="Demultiplex"/>, in bytes).</summary>
    public static byte[] DemultiplexBytes(ReadOnlySpan<byte> bytes)
    {
        using var payload = new MemoryStream(bytes.Length);
        var rest = bytes;
        while (rest.Length >= 8 && rest[0] <= 2 && rest[1] == 0 && rest[2] == 0 && rest[3] == 0)
        {
            var length = (int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(rest[4..8]), (uint)(rest.Length - 8));
            payload.Write(rest.Slice(8, length));
            rest = rest[(8 + length)..];
        }

        payload.Write(rest);
        return payload.ToArray();
    }

    /// <summary>The engine's <c>/info</c>: its host's name, CPU count (NCPU) and memory (MemTotal, bytes).</summary>
    public async Task<JsonElement> InfoAsync(CancellationToken ct) =>
        await SendAsync<JsonElement>(HttpMethod.Get, "/info", null, ct);

    /// <summary>
    /// The log stream of a container without a TTY: frames of an 8-byte header (stream type, three zero bytes, the
    /// payload length big-endian) and the payload. Text that does not start with a valid header is returned as is.
    /// </summary>
    public static string Demultiplex(ReadOnlySpan<byte> bytes) => Encoding.UTF8.GetString(DemultiplexBytes(bytes));

    public async Task<bool> ImageExistsAsync(string image, CancellationToken ct) =>
        await GetOrNullAsync<JsonElement?>($"/images/{Uri.EscapeDataString(image)}/json", ct) is not null;

    public async Task<bool> VolumeExistsAsync(string name, CancellationToken ct) =>
        await GetOrNullAsync<JsonElement?>($"/volumes/{Uri.EscapeDataString(name)}", ct) is not null;

    public Task CreateVolumeAsync(string name, IReadOnlyDictionary<string, string> labels, CancellationToken ct) =>
        SendAsync<JsonElement?>(HttpMethod.Post, "/volumes/create", new JsonObject
        {
            ["Name"] = name,
            ["Labels"] = new JsonObject(labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
        }, ct);

    /// <summary>Removes a volume; gone already is success.</summary>
    public Task RemoveVolumeAsync(string name, CancellationToken ct) =>
        SendAsync<JsonElement?>(HttpMethod.Delete, $"/volumes/{Uri.EscapeDataString(name)}?force=true", null, ct, HttpStatusCode.NotFound);

    private async Task<T?> GetOrNullAsync<T>(string path, CancellationToken ct)
    {
        using var response = await _http.GetAsync(_prefix + path, ct);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }

        await EnsureSuccessAsync(response, ct);
        return await response.Content.ReadFromJsonAsync<T>(Json, ct);
    }

    private async Task<T?> SendAsync<T>(HttpMethod method, string path, JsonObject? body, CancellationToken ct, params HttpStatusCode[] alsoFine)
    {
        using var request = new HttpRequestMessage(method, _prefix + path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request, ct);
        if (alsoFine.Contains(response.StatusCode))
        {
            return default;
        }

        await EnsureSuccessAsync(response, ct);
        if (response.StatusCode == HttpStatusCode.NoContent || response.Content.Headers.ContentLength == 0)
        {
            return default;
        }

        return await response.Content.ReadFromJsonAsync<T>(Json, ct);
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var text = await response.Content.ReadAsStringAsync(ct);
        string message;
        try
        {
            message = JsonDocument.Parse(text).RootElement.TryGetProperty("message", out var m) ? m.GetString() ?? text : text;
        }
        catch (JsonException)
        {
            message = text;
        }

        throw new DockerApiException(response.StatusCode, message.Trim());
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>A non-2xx answer of the engine, with its message ("No such image: …").</summary>
public sealed class DockerApiException(HttpStatusCode status, string message) : Exception($"{(int)status}: {message}")
{
    public HttpStatusCode Status { get; } = status;

    public string EngineMessage { get; } = message;
}

/// <summary>The parts of <c>GET /containers/{id}/json</c> the backend reads.</summary>
public sealed record ContainerInspect(string Id, string Name, ContainerState State, ContainerConfig Config, NetworkSettings? NetworkSettings);

public sealed record ContainerState(string Status, bool Running, int ExitCode, bool OOMKilled, string? Error);

public sealed record ContainerConfig(bool Tty, Dictionary<string, string>? Labels);

public sealed record NetworkSettings(Dictionary<string, List<PortBinding>?>? Ports);

public sealed record PortBinding(string? HostIp, string? HostPort);

/// <summary>One row of <c>GET /containers/json</c>.</summary>
public sealed record ContainerSummary(string Id, List<string>? Names, string State, Dictionary<string, string>? Labels);
