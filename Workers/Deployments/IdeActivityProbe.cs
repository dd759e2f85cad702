using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Platform.Core.Catalog;
using Platform.Core.Deployments.Backends;

namespace Platform.Workers.Deployments;

/// <summary>What an IDE says about its own use: when it was last used, and whether something runs in it now.</summary>
public sealed record IdeActivityReport(DateTimeOffset? LastActivity, bool Busy, string Detail);

/// <summary>
/// Asks a running IDE about its use, with the service token Workers share with it (never the owner's password).
/// Jupyter: <c>api/status</c> (last activity over API requests, kernels and terminals), <c>api/kernels</c> (a busy
/// kernel, and each kernel's last activity) and <c>api/terminals</c>, each with <c>no_track_activity</c> so the asking
/// itself is not counted as use. code-server: <c>/healthz</c>, whose <c>lastHeartbeat</c> moves while a client is connected.
/// Null when the IDE cannot be asked (no token, not answering): the culler then leaves it alone this round.
/// </summary>
public sealed class IdeActivityProbe(IHttpClientFactory httpClients)
{
    public async Task<IdeActivityReport?> AskAsync(ModuleService service, string address, string baseUrl, string? token, CancellationToken ct)
    {
        using var client = httpClients.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(5);
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("token", token);
        }

        try
        {
            return service switch
            {
                ModuleService.Jupyter when token is not null => await JupyterAsync(client, address.TrimEnd('/') + baseUrl, ct),
                ModuleService.VsCode => await CodeServerAsync(client, address.TrimEnd('/'), ct),
                _ => null,
            };
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException && !ct.IsCancellationRequested)
        {
            return null;
        }
    }

    private static async Task<IdeActivityReport?> JupyterAsync(HttpClient client, string root, CancellationToken ct)
    {
        using var status = await GetJsonAsync(client, root + "api/status?no_track_activity=1", ct);
        using var kernels = await GetJsonAsync(client, root + "api/kernels?no_track_activity=1", ct);
        using var terminals = await GetJsonAsync(client, root + "api/terminals?no_track_activity=1", ct);
        if (status is null || kernels is null)
        {
            return null;
        }

        var last = Time(status.RootElement, "last_activity");
        var busy = 0;
        foreach (var kernel in kernels.RootElement.EnumerateArray())
        {
            last = Later(last, Time(kernel, "last_activity"));
            if (kernel.TryGetProperty("execution_state", out var state) && state.GetString() is "busy" or "starting")
            {
                busy++;
            }
        }

        foreach (var terminal in terminals?.RootElement.EnumerateArray() ?? default)
        {
            last = Later(last, Time(terminal, "last_activity"));
        }

        var count = kernels.RootElement.GetArrayLength();
        return new IdeActivityReport(last, busy > 0, $"{count} kernel(s), {busy} busy");
    }

    private static async Task<IdeActivityReport?> CodeServerAsync(HttpClient client, string address, CancellationToken ct)
    {
        // code-server serves at its root (the proxy strips /ide/{id} for it).
        using var health = await GetJsonAsync(client, address + "/healthz", ct);
        if (health is null)
        {
            return null;
        }

        DateTimeOffset? last = health.RootElement.TryGetProperty("lastHeartbeat", out var beat) && beat.TryGetInt64(out var ms) && ms > 0
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
        var alive = health.RootElement.TryGetProperty("status", out var s) && s.GetString() == "alive";
        return new IdeActivityReport(last, false, alive ? "a client is connected" : "no client connected");
    }

    private static async Task<JsonDocument?> GetJsonAsync(HttpClient client, string url, CancellationToken ct)
    {
        using var response = await client.GetAsync(url, ct);
        if (!response.IsSuccessStatusCode)
        {
            return null;
        }

        await using var body = await response.Content.ReadAsStreamAsync(ct);
        return await JsonDocument.ParseAsync(body, cancellationToken: ct);
    }

    private static DateTimeOffset? Time(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : null;

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a > b ? a : b;
}

/// <summary>
/// GPU utilisation from <c>nvidia-smi</c>, where it is installed. The process backend does not pin GPUs to workloads,
/// so this is the busiest GPU of the machine: a deployment holding GPUs is not culled while any GPU works. Null where
/// there is no nvidia-smi (then GPUs say nothing and the other signals decide).
/// </summary>
public sealed class GpuUtilization
{
    private readonly string? _nvidiaSmi = ProcessBackend.OnPath("nvidia-smi");

    public async Task<double?> BusiestPercentAsync(CancellationToken ct)
    {
        if (_nvidiaSmi is null)
        {
            return null;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(_nvidiaSmi, "--query-gpu=utilization.gpu --format=csv,noheader,nounits")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            })!;
            var output = await process.StandardOutput.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            return process.ExitCode == 0 ? Parse(output) : null;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The highest of nvidia-smi's lines ("0\n37\n"); null when none is a number.</summary>
    public static double? Parse(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(l => double.TryParse(l, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (double?)null)
            .Where(v => v is not null).DefaultIfEmpty(null).Max();
}
