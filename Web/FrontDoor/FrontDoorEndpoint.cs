using Microsoft.Extensions.Options;

namespace Platform.Web.FrontDoor;

/// <summary>The endpoint behind one route: resolve the destination, then relay a WebSocket or forward HTTP.</summary>
internal sealed class FrontDoorEndpoint(
    FrontDoorRoute route,
    HttpForwarder forwarder,
    WebSocketRelay relay,
    IOptions<FrontDoorOptions> options)
{
    private readonly int prefixSegments = DestinationAddress.SegmentCount(route.PathPrefix);

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
        var strip = route.StripPrefix || FrontDoorRoute.StripsPrefixFor(context);
        var (path, prefix) = DestinationAddress.Split(context, strip ? prefixSegments : 0);
        if (strip && path == "/" && !context.Request.Path.Value!.EndsWith('/') && !webSocket
            && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
        {
            // An upstream at its root resolves relative links against "/"; the browser, at ".../prefix", against the
            // parent of the prefix. The slash keeps them agreeing.
            context.Response.Redirect(context.Request.PathBase + context.Request.Path + "/" + context.Request.QueryString);
            return;
        }

        var forward = new ForwardRequest(
            route.Name,
            DestinationAddress.Build(baseAddress, path, context.Request.QueryString, webSocket),
            prefix.Length == 0 ? null : prefix,
            route.Timeout ?? options.Value.RequestTimeout);

        await (webSocket ? relay.RelayAsync(context, forward) : forwarder.ForwardAsync(context, forward));
    }
}
