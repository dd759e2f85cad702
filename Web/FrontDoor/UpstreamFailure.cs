namespace Platform.Web.FrontDoor;

/// <summary>Why an upstream exchange failed before a response could be relayed, and the answer the caller gets.</summary>
internal enum UpstreamFailureKind
{
    /// <summary>The caller went away; nobody is left to answer.</summary>
    ClientAborted,
    /// <summary>No connection to the upstream: refused, unresolvable or unroutable. 502.</summary>
    Unreachable,
    /// <summary>The upstream did not connect or answer within its time. 504.</summary>
    TimedOut,
    /// <summary>The caller's own request body was malformed or stalled. 400.</summary>
    BadRequest,
    /// <summary>The connection broke or the upstream answered something that is not HTTP. 502.</summary>
    Failed,
}

internal static class UpstreamFailure
{
    /// <summary>
    /// Exceptions that mean "the exchange failed" rather than "this code is wrong"; only these are turned into
    /// 502/504 answers, everything else reaches the exception handler.
    /// </summary>
    public static bool IsExchangeFailure(Exception exception) =>
        exception is HttpRequestException or OperationCanceledException or IOException
            or System.Net.WebSockets.WebSocketException;

    /// <param name="timerFired">Whether the exchange's own timeout token fired; it also fires on client abort, checked first.</param>
    public static UpstreamFailureKind Classify(Exception exception, HttpContext context, bool timerFired)
    {
        if (context.RequestAborted.IsCancellationRequested)
        {
            return UpstreamFailureKind.ClientAborted;
        }

        if (timerFired || Find<TimeoutException>(exception) is not null)
        {
            return UpstreamFailureKind.TimedOut;
        }

        // Kestrel reports a broken request body (bad chunking, too slow) as BadHttpRequestException; the client's fault.
        if (Find<BadHttpRequestException>(exception) is not null)
        {
            return UpstreamFailureKind.BadRequest;
        }

        // Only a failure to connect is "unreachable"; a connection reset later is a failed exchange, even though
        // both carry a SocketException underneath.
        return Find<HttpRequestException>(exception) is { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError }
            ? UpstreamFailureKind.Unreachable
            : UpstreamFailureKind.Failed;
    }

    /// <summary>
    /// Answers the caller with ProblemDetails naming the upstream but never its address, and logs the cause with
    /// the destination (scheme, host and path; the query is left out as it may carry tokens).
    /// </summary>
    public static Task AnswerAsync(HttpContext context, ForwardRequest forward, UpstreamFailureKind kind, Exception exception, ILogger logger)
    {
        var destination = forward.Destination.GetLeftPart(UriPartial.Path);
        switch (kind)
        {
            case UpstreamFailureKind.ClientAborted:
                logger.ClientAborted(forward.Upstream, destination);
                return Task.CompletedTask;
            case UpstreamFailureKind.TimedOut:
                logger.UpstreamTimedOut(forward.Upstream, destination, forward.Timeout);
                return WriteAsync(context, StatusCodes.Status504GatewayTimeout, "Upstream timed out",
                    $"The {forward.Upstream} service did not answer in time.");
            case UpstreamFailureKind.BadRequest:
                logger.BadRequestBody(forward.Upstream, destination, exception);
                return WriteAsync(context, StatusCodes.Status400BadRequest, "Bad request body",
                    "The request body could not be read.");
            case UpstreamFailureKind.Unreachable:
                logger.UpstreamUnreachable(forward.Upstream, destination, exception);
                return WriteAsync(context, StatusCodes.Status502BadGateway, "Upstream unreachable",
                    $"The {forward.Upstream} service could not be reached.");
            default:
                logger.UpstreamFailed(forward.Upstream, destination, exception);
                return WriteAsync(context, StatusCodes.Status502BadGateway, "Upstream failed",
                    $"The exchange with the {forward.Upstream} service failed.");
        }
    }

    /// <summary>
    /// Writes a ProblemDetails body through the app's IProblemDetailsService when one is registered (so trace ids
    /// and customisations apply), as plain application/problem+json otherwise.
    /// </summary>
    public static Task WriteAsync(HttpContext context, int status, string title, string detail) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title).ExecuteAsync(context);

    private static T? Find<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T match)
            {
                return match;
            }
        }

        return null;
    }
}
