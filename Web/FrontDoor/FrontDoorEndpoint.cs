using Microsoft.Extensions.Options;

namespace Platform.Web.FrontDoor;

/// <summary>The endpoint behind one route: resolve the destination, then relay a WebSocket or forward HTTP.</summary>
internal sealed class FrontDoorEndpoint(
    FrontDoorRoute route,
    HttpForwarder forwarder,
    WebSocketRelay relay,
    IOptions<FrontDoorOptions> options)
{
    private readonly int strippedSegments = route.StripPrefix ? DestinationAddress.SegmentCount(route.PathPrefix) : 0;

    public async Task HandleAsync(HttpContext context)
    {
        var baseAddress = await route.ResolveDestination(context);
        if (baseAddress is null)
        {
            await UpstreamFailure.WriteAsync(context, StatusCodes.Status404NotFound, "Not found",
                $"There is no {route.Name} at this address.");
            return;
        }

        var webSocket = context.WebSockets.IsWebSocketRequest;
        var (path, prefix) = DestinationAddress.Split(context, strippedSegments);
        var forward = new ForwardRequest(
            route.Name,
            DestinationAddress.Build(baseAddress, path, context.Request.QueryString, webSocket),
            prefix.Length == 0 ? null : prefix,
            route.Timeout ?? options.Value.RequestTimeout);

        await (webSocket ? relay.RelayAsync(context, forward) : forwarder.ForwardAsync(context, forward));
    }
}
