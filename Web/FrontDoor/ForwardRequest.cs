namespace Platform.Web.FrontDoor;

/// <summary>One request's way upstream, as the route table resolved it.</summary>
/// <param name="Upstream">The upstream's name, for logs and error bodies; never its address.</param>
/// <param name="Destination">The full upstream address: base address, forwarded path and query, verbatim.</param>
/// <param name="Prefix">The part of the request path the upstream does not see (sent as X-Forwarded-Prefix), or null.</param>
/// <param name="Timeout">Time allowed until the upstream's response headers (or WebSocket handshake); infinite for none.</param>
public sealed record ForwardRequest(string Upstream, Uri Destination, string? Prefix, TimeSpan Timeout)
{
    /// <summary>A token source that fires when the client aborts or, unless it is infinite, <see cref="Timeout"/> passes.</summary>
    internal CancellationTokenSource StartTimeout(CancellationToken aborted)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        if (Timeout != System.Threading.Timeout.InfiniteTimeSpan)
        {
            source.CancelAfter(Timeout);
        }

        return source;
    }
}
