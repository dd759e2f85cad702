namespace Platform.Web.FrontDoor;

/// <summary>The front door's log events, generated at compile time so a busy proxy does not box or format in vain.</summary>
internal static partial class FrontDoorLog
{
    [LoggerMessage(1, LogLevel.Debug, "Client went away while {Upstream} at {Destination} was answering")]
    public static partial void ClientAborted(this ILogger logger, string upstream, string destination);

    [LoggerMessage(2, LogLevel.Warning, "Upstream {Upstream} at {Destination} timed out (request timeout {Timeout})")]
    public static partial void UpstreamTimedOut(this ILogger logger, string upstream, string destination, TimeSpan timeout);

    [LoggerMessage(3, LogLevel.Information, "Request body for {Upstream} at {Destination} could not be read")]
    public static partial void BadRequestBody(this ILogger logger, string upstream, string destination, Exception exception);

    [LoggerMessage(4, LogLevel.Warning, "Upstream {Upstream} at {Destination} is unreachable")]
    public static partial void UpstreamUnreachable(this ILogger logger, string upstream, string destination, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Exchange with upstream {Upstream} at {Destination} failed")]
    public static partial void UpstreamFailed(this ILogger logger, string upstream, string destination, Exception exception);

    [LoggerMessage(6, LogLevel.Warning, "Upstream {Upstream} at {Destination} broke off its response after it had started; aborting the client connection")]
    public static partial void ResponseBrokenOff(this ILogger logger, string upstream, string destination, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Upstream {Upstream} at {Destination} refused the WebSocket handshake with HTTP {StatusCode}")]
    public static partial void WebSocketRefused(this ILogger logger, string upstream, string destination, int statusCode);

    [LoggerMessage(8, LogLevel.Debug, "WebSocket relay to {Upstream} at {Destination} ended abnormally")]
    public static partial void WebSocketBroken(this ILogger logger, string upstream, string destination);
}
