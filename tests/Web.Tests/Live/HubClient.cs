using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Web.Tests.Live;

/// <summary>
/// Microsoft's .NET SignalR client (<see cref="HubConnection"/>, from Microsoft.AspNetCore.SignalR.Client.Core) over a
/// plain WebSocket: the package with its HTTP transports is not in our registry, so <see cref="WebSocketConnectionFactory"/>
/// connects straight to <c>ws://host/hubs/live</c> (no negotiation: the server accepts a WebSocket without it), signed in by
/// the session cookie or an access key (<c>?access_token=</c>), as <see cref="HubSocket"/> does.
/// </summary>
public static class HubClient
{
    public static (HubConnection Connection, WebSocketConnectionFactory Factory) Create(
        Uri web, string path, CookieContainer? cookies = null, string? accessToken = null, IRetryPolicy? reconnect = null)
    {
        var query = accessToken is null ? "" : $"?access_token={Uri.EscapeDataString(accessToken)}";
        var url = new Uri($"{(web.Scheme == "https" ? "wss" : "ws")}://{web.Authority}{path}{query}");
        var factory = new WebSocketConnectionFactory(cookies);
        var builder = new HubConnectionBuilder();
        builder.Services.AddSingleton<IConnectionFactory>(factory);
        builder.Services.AddSingleton<EndPoint>(new UriEndPoint(url));
        if (reconnect is not null)
        {
            builder.WithAutomaticReconnect(reconnect);
        }

        var connection = builder.Build();
        connection.ServerTimeout = TimeSpan.FromSeconds(60);
        return (connection, factory);
    }
}

/// <summary>Reconnects at once, forever (tests drop the socket on purpose).</summary>
public sealed class RetryAtOnce : IRetryPolicy
{
    public TimeSpan? NextRetryDelay(RetryContext retryContext) => TimeSpan.FromMilliseconds(100);
}

/// <summary>A <see cref="IConnectionFactory"/> over <see cref="ClientWebSocket"/>, with a duplex pipe in between.</summary>
public sealed class WebSocketConnectionFactory(CookieContainer? cookies) : IConnectionFactory
{
    private WebSocketConnection? current;

    public int Connections { get; private set; }

    public async ValueTask<ConnectionContext> ConnectAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        if (cookies is not null)
        {
            socket.Options.Cookies = cookies;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            await socket.ConnectAsync(((UriEndPoint)endpoint).Uri, timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Connections++;
        current = new WebSocketConnection(socket);
        return current;
    }

    /// <summary>Drops the current socket without a close handshake, as a network failure would.</summary>
    public void Drop() => current?.Drop();
}

public sealed class WebSocketConnection : ConnectionContext
{
    private readonly ClientWebSocket socket;
    private readonly Pipe input = new();
    private readonly Pipe output = new();
    private readonly CancellationTokenSource stop = new();
    private readonly Task receiving;
    private readonly Task sending;

    public WebSocketConnection(ClientWebSocket socket)
    {
        this.socket = socket;
        Transport = new DuplexPipe(input.Reader, output.Writer);
        receiving = ReceiveAsync();
        sending = SendAsync();
    }

    public override string ConnectionId { get; set; } = Guid.NewGuid().ToString("N");
    public override IFeatureCollection Features { get; } = new FeatureCollection();
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }

    public void Drop()
    {
        socket.Abort();
        stop.Cancel();
    }

    public override void Abort(ConnectionAbortedException abortReason) => Drop();

    private async Task ReceiveAsync()
    {
        Exception? error = null;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var memory = input.Writer.GetMemory(16 * 1024);
                var received = await socket.ReceiveAsync(memory, stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                input.Writer.Advance(received.Count);
                if (received.EndOfMessage)
                {
                    var flushed = await input.Writer.FlushAsync(stop.Token);
                    if (flushed.IsCompleted || flushed.IsCanceled)
                    {
                        break;
                    }
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            error = stop.IsCancellationRequested ? new ConnectionAbortedException("The socket was dropped.") : ex;
        }

        await input.Writer.CompleteAsync(error);
    }

    private async Task SendAsync()
    {
        try
        {
            while (true)
            {
                var result = await output.Reader.ReadAsync(stop.Token);
                foreach (var segment in result.Buffer)
                {
                    await socket.SendAsync(segment, WebSocketMessageType.Text, endOfMessage: true, stop.Token);
                }

                output.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            if (socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Dropped or closed by the server; the receiving side reports it.
        }

        await output.Reader.CompleteAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await output.Writer.CompleteAsync();
        await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(5)));
        await stop.CancelAsync();
        socket.Abort();
        await receiving;
        await input.Reader.CompleteAsync();
        socket.Dispose();
        stop.Dispose();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
