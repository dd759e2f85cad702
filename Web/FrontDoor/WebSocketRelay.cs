using System.Buffers;
using System.Net.WebSockets;

namespace Platform.Web.FrontDoor;

/// <summary>
/// Relays a WebSocket: connects upstream first, then accepts the client with the sub-protocol the upstream chose,
/// then pumps messages both ways, frame by frame, until either side closes. Connecting first means a refused
/// upstream is answered with an HTTP error the client can read, not an accepted socket that closes at once.
/// </summary>
public sealed class WebSocketRelay(
    [FromKeyedServices(FrontDoorExtensions.InvokerKey)] HttpMessageInvoker invoker,
    ILogger<WebSocketRelay> logger)
{
    private const int BufferSize = 16 * 1024;

    /// <summary>Once one side has closed, how long the other gets to answer the close before both are dropped.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(10);

    public async Task RelayAsync(HttpContext context, ForwardRequest forward)
    {
        using var upstream = CreateUpstreamSocket(context, forward);
        if (!await ConnectAsync(upstream, context, forward))
        {
            return;
        }

        using var client = await context.WebSockets.AcceptWebSocketAsync(
            new WebSocketAcceptContext { SubProtocol = upstream.SubProtocol });
        if (!await PumpAsync(client, upstream, context.RequestAborted))
        {
            logger.WebSocketBroken(forward.Upstream, forward.Destination.GetLeftPart(UriPartial.Path));
        }
    }

    private static ClientWebSocket CreateUpstreamSocket(HttpContext context, ForwardRequest forward)
    {
        var socket = new ClientWebSocket();
        // Lets a refused handshake be reported with the upstream's status code.
        socket.Options.CollectHttpResponseDetails = true;
        foreach (var protocol in context.WebSockets.WebSocketRequestedProtocols)
        {
            socket.Options.AddSubProtocol(protocol);
        }

        // The upstream authenticates the user from the same Cookie / Authorization it gets on plain requests.
        // The Sec-WebSocket-* handshake headers are per hop: ClientWebSocket makes its own, and compression is
        // negotiated per hop as well, since messages are relayed decompressed.
        foreach (var (name, values) in ProxyHeaders.ForRequest(context, forward.Prefix))
        {
            if (!name.StartsWith("Sec-WebSocket-", StringComparison.OrdinalIgnoreCase))
            {
                socket.Options.SetRequestHeader(name, values.ToString());
            }
        }

        return socket;
    }

    private async Task<bool> ConnectAsync(ClientWebSocket upstream, HttpContext context, ForwardRequest forward)
    {
        using var timeout = forward.StartTimeout(context.RequestAborted);
        try
        {
            // The shared invoker: same pooled handler, connect timeout and no-proxy rule as plain requests.
            await upstream.ConnectAsync(forward.Destination, invoker, timeout.Token);
            return true;
        }
        catch (Exception ex) when (UpstreamFailure.IsExchangeFailure(ex))
        {
            if (upstream.HttpStatusCode != 0 && !context.RequestAborted.IsCancellationRequested)
            {
                // The upstream answered, but not with 101: it is up and said no (auth, no such hub, not a socket).
                var status = (int)upstream.HttpStatusCode;
                logger.WebSocketRefused(forward.Upstream, forward.Destination.GetLeftPart(UriPartial.Path), status);
                await UpstreamFailure.WriteAsync(context, StatusCodes.Status502BadGateway, "Upstream refused the WebSocket",
                    $"The {forward.Upstream} service refused the WebSocket handshake with HTTP {status}.");
                return false;
            }

            await UpstreamFailure.AnswerAsync(context, forward, UpstreamFailure.Classify(ex, context, timeout.IsCancellationRequested), ex, logger);
            return false;
        }
    }

    /// <summary>
    /// Pumps both directions until both have closed. A clean close on one side is passed on and the other side
    /// gets <see cref="CloseTimeout"/> to answer it; a broken side (or the client's request aborting) ends both at
    /// once, as cancelling a pending receive aborts its socket. Returns whether both directions closed cleanly.
    /// </summary>
    private static async Task<bool> PumpAsync(WebSocket client, WebSocket upstream, CancellationToken aborted)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var toUpstream = CopyMessagesAsync(client, upstream, stop.Token);
        var toClient = CopyMessagesAsync(upstream, client, stop.Token);

        var first = await Task.WhenAny(toUpstream, toClient);
        if (await first)
        {
            stop.CancelAfter(CloseTimeout);
        }
        else
        {
            await stop.CancelAsync();
        }

        var clean = await toUpstream & await toClient;
        if (!clean)
        {
            client.Abort();
            upstream.Abort();
        }

        return clean;
    }

    /// <summary>
    /// Copies messages from one socket to the other as frames arrive (EndOfMessage marks a message's last frame,
    /// so a fragmented message stays fragmented and a large one is never assembled here). Returns true when the
    /// source closed and the close was passed on, false when either socket broke or the pump was stopped.
    /// </summary>
    private static async Task<bool> CopyMessagesAsync(WebSocket source, WebSocket destination, CancellationToken stop)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                var received = await source.ReceiveAsync(buffer.AsMemory(0, BufferSize), stop);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    await PassOnCloseAsync(source, destination, stop);
                    return true;
                }

                await destination.SendAsync(buffer.AsMemory(0, received.Count), received.MessageType, received.EndOfMessage, stop);
            }
        }
        catch (Exception ex) when (UpstreamFailure.IsExchangeFailure(ex))
        {
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static Task PassOnCloseAsync(WebSocket source, WebSocket destination, CancellationToken stop)
    {
        if (destination.State is not (WebSocketState.Open or WebSocketState.CloseReceived))
        {
            return Task.CompletedTask;
        }

        // A close without a status (1005) may not carry a description, and 1005 itself may not be sent: send none.
        var status = source.CloseStatus ?? WebSocketCloseStatus.Empty;
        var description = status == WebSocketCloseStatus.Empty ? null : source.CloseStatusDescription;
        return destination.CloseOutputAsync(status, description, stop);
    }
}
