using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Platform.Web.Tests.FrontDoor;

/// <summary>
/// A real Kestrel server standing in for Api and workload servers: it echoes what reached it, streams, stalls,
/// and speaks WebSocket and SignalR. Tests and endpoints meet through named signals instead of sleeps.
/// </summary>
public sealed class TestUpstream : IAsyncDisposable
{
    public const long GatePosition = 1024 * 1024;

    private readonly ConcurrentDictionary<string, TaskCompletionSource<string>> signals = new();
    private WebApplication app = null!;

    public Uri Address { get; private set; } = null!;

    public static async Task<TestUpstream> StartAsync()
    {
        var upstream = new TestUpstream();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        // Uploads of tens of megabytes must reach the echo; Kestrel's default stops at 30 MB.
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSignalR();

        upstream.app = builder.Build();
        upstream.app.UseWebSockets();
        upstream.MapEndpoints(upstream.app);
        await upstream.app.StartAsync();
        upstream.Address = new Uri(upstream.app.Urls.First());
        return upstream;
    }

    /// <summary>The signal with this name, created on first use by whichever side gets there first.</summary>
    public TaskCompletionSource<string> Signal(string name) =>
        signals.GetOrAdd(name, _ => new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>Waits for a signal; a proxy that buffers or loses a cancellation makes this time out and the test fail.</summary>
    public Task<string> WaitAsync(string name) => Signal(name).Task.WaitAsync(TimeSpan.FromSeconds(20));

    public ValueTask DisposeAsync() => app.DisposeAsync();

    /// <summary>The byte at a position of every generated body: a pattern that shows lost, repeated or shifted bytes.</summary>
    public static byte PatternAt(long position) => (byte)(position % 251);

    private void MapEndpoints(WebApplication web)
    {
        // Everything not matched below is echoed, whatever the path: the forwarded path itself is under test.
        web.Map("/{**rest}", EchoAsync);
        web.MapMethods("/api/status/{code:int}", ["GET", "HEAD"], StatusAsync);
        web.MapGet("/api/stream/{key}/{size:long}", StreamAsync);
        web.MapGet("/api/events/{key}", EventsAsync);
        web.MapGet("/api/broken/{key}/{bytes:int}", BreakOffAsync);
        web.MapPost("/api/upload/{key}", GatedUploadAsync);
        web.MapGet("/api/wait/{key}", HoldUntilReleasedAsync);
        web.MapGet("/hubs/wait/{key}", HoldUntilReleasedAsync);
        web.Map("/api/ws/echo/{key}", WebSocketEchoAsync);
        web.Map("/api/ws/close/{key}", WebSocketServerCloseAsync);
        web.Map("/api/ws/refuse", (HttpContext context) => Results.StatusCode(StatusCodes.Status403Forbidden));
        web.MapHub<EchoHub>("/hubs/echo");
    }

    private static async Task EchoAsync(HttpContext context)
    {
        var (length, sha256) = await ReadBodyAsync(context, onFirstRead: null);
        var echo = new Echo(
            context.Request.Method,
            context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToArray()),
            length,
            sha256);
        await context.Response.WriteAsJsonAsync(echo);
    }

    private static async Task StatusAsync(HttpContext context, int code)
    {
        var response = context.Response;
        response.StatusCode = code;
        response.Headers["X-Upstream"] = "yes";
        response.Headers.Append("Set-Cookie", "a=1; path=/");
        response.Headers.Append("Set-Cookie", "b=2; path=/");
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentLanguage = "de";
        response.Headers.Connection = "X-Resp-Hop";
        response.Headers["X-Resp-Hop"] = "for this hop only";
        response.Headers["Keep-Alive"] = "timeout=5";
        if (code is not (StatusCodes.Status204NoContent or StatusCodes.Status304NotModified))
        {
            response.ContentType = "text/plain";
            await response.WriteAsync($"status {code}");
        }
    }

    /// <summary>Writes <paramref name="size"/> pattern bytes, stopping after the first MiB until the test opens the gate.</summary>
    private async Task StreamAsync(HttpContext context, string key, long size)
    {
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = size;
        var buffer = new byte[64 * 1024];
        for (long written = 0; written < size;)
        {
            if (written == GatePosition)
            {
                await WaitAsync($"{key}:open");
            }

            var count = (int)Math.Min(buffer.Length, size - written);
            for (var i = 0; i < count; i++)
            {
                buffer[i] = PatternAt(written + i);
            }

            await context.Response.Body.WriteAsync(buffer.AsMemory(0, count), context.RequestAborted);
            written += count;
        }

        Signal($"{key}:finished").TrySetResult("");
    }

    private async Task EventsAsync(HttpContext context, string key)
    {
        context.Response.ContentType = "text/event-stream";
        await context.Response.WriteAsync("data: one\n\n", context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
        await WaitAsync($"{key}:next");
        await context.Response.WriteAsync("data: two\n\n", context.RequestAborted);
    }

    /// <summary>
    /// Promises a megabyte, sends <paramref name="bytes"/> of it, and drops the connection: at once when it sent
    /// nothing, otherwise when the test says so (after it has seen those bytes arrive through the front door).
    /// </summary>
    private async Task BreakOffAsync(HttpContext context, string key, int bytes)
    {
        context.Response.ContentLength = 1024 * 1024;
        await context.Response.StartAsync(context.RequestAborted);
        if (bytes > 0)
        {
            await context.Response.Body.WriteAsync(new byte[bytes], context.RequestAborted);
            await WaitAsync($"{key}:break");
        }

        context.Abort();
    }

    private async Task GatedUploadAsync(HttpContext context, string key)
    {
        var (length, sha256) = await ReadBodyAsync(context, onFirstRead: () => Signal($"{key}:first-bytes").TrySetResult(""));
        await context.Response.WriteAsJsonAsync(new Echo("POST", "", [], length, sha256));
    }

    /// <summary>Answers only when the test releases it, and reports whether the front door gave up on it first.</summary>
    private async Task HoldUntilReleasedAsync(HttpContext context, string key)
    {
        Signal($"{key}:started").TrySetResult("");
        try
        {
            await Signal($"{key}:release").Task.WaitAsync(context.RequestAborted);
            await context.Response.WriteAsync("released", context.RequestAborted);
        }
        catch (OperationCanceledException)
        {
            Signal($"{key}:aborted").TrySetResult("");
        }
    }

    /// <summary>
    /// Says what its handshake carried, then echoes frame by frame through a small buffer (so large messages
    /// come back fragmented), and answers a close with the same status.
    /// </summary>
    private async Task WebSocketEchoAsync(HttpContext context, string key)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        var protocol = context.WebSockets.WebSocketRequestedProtocols.Contains("platform.v2") ? "platform.v2" : null;
        using var socket = await context.WebSockets.AcceptWebSocketAsync(protocol);
        var headers = context.Request.Headers;
        var handshake = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string?>
        {
            ["rawTarget"] = context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
            ["cookie"] = headers.Cookie,
            ["authorization"] = headers.Authorization,
            ["origin"] = headers.Origin,
            ["forwardedFor"] = headers["X-Forwarded-For"],
            ["forwardedHost"] = headers["X-Forwarded-Host"],
        });
        var aborted = context.RequestAborted;
        try
        {
            await socket.SendAsync(handshake, WebSocketMessageType.Text, endOfMessage: true, aborted);
            var buffer = new byte[4096];
            while (true)
            {
                var received = await socket.ReceiveAsync(buffer, aborted);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    Signal($"{key}:closed").TrySetResult($"{(int?)socket.CloseStatus}|{socket.CloseStatusDescription}");
                    await socket.CloseOutputAsync(socket.CloseStatus ?? WebSocketCloseStatus.Empty, socket.CloseStatusDescription, aborted);
                    return;
                }

                await socket.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, aborted);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
            Signal($"{key}:aborted").TrySetResult(ex.GetType().Name);
        }
    }

    private async Task WebSocketServerCloseAsync(HttpContext context, string key)
    {
        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        await socket.SendAsync("bye"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, context.RequestAborted);
        // CloseAsync returns once the client's answering close has come back through the relay.
        await socket.CloseAsync((WebSocketCloseStatus)4001, "server done", context.RequestAborted);
        Signal($"{key}:done").TrySetResult($"{socket.State}");
    }

    private static async Task<(long Length, string Sha256)> ReadBodyAsync(HttpContext context, Action? onFirstRead)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        long length = 0;
        int read;
        while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            if (length == 0)
            {
                onFirstRead?.Invoke();
            }

            hash.AppendData(buffer, 0, read);
            length += read;
        }

        return (length, Convert.ToHexString(hash.GetHashAndReset()));
    }
}

/// <summary>What the echo endpoint saw.</summary>
public sealed record Echo(string Method, string RawTarget, Dictionary<string, string?[]> Headers, long BodyLength, string BodySha256)
{
    public string? Header(string name) =>
        Headers.FirstOrDefault(h => h.Key.Equals(name, StringComparison.OrdinalIgnoreCase)) is { Key: not null } h
            ? string.Join(", ", h.Value)
            : null;
}

public sealed class EchoHub : Hub
{
    public string Echo(string message) => message;
}
