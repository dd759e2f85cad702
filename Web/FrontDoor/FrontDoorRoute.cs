namespace Platform.Web.FrontDoor;

/// <summary>
/// One entry of the front door's route table: requests under <see cref="PathPrefix"/> go to the base address
/// <see cref="ResolveDestination"/> returns for them. The address is resolved per request, so a workload route
/// (an IDE, a serving replica) can look up where the workload runs and whether the caller may reach it.
/// </summary>
/// <param name="Name">The upstream as people read it in logs and error bodies ("api", "ide").</param>
/// <param name="PathPrefix">
/// A route template prefix that starts with '/' and has no trailing '/', such as <c>/api</c> or <c>/ide/{id}</c>;
/// the prefix itself and everything below it is forwarded.
/// </param>
/// <param name="ResolveDestination">
/// The upstream's base address (http or https; a path in it is kept as a base path) for this request, or null when
/// there is nothing to reach, answered 404. It runs as the endpoint, after the whole middleware pipeline, so it can
/// read the authenticated user.
/// </param>
/// <param name="StripPrefix">
/// When true the upstream sees only the path below the prefix, and the prefix in <c>X-Forwarded-Prefix</c>, for
/// servers that expect to live at the root; when false it sees the whole path.
/// </param>
public sealed record FrontDoorRoute(
    string Name,
    string PathPrefix,
    Func<HttpContext, ValueTask<Uri?>> ResolveDestination,
    bool StripPrefix = false)
{
    /// <summary>
    /// How long the upstream may take to send its response headers: null for <see cref="FrontDoorOptions.RequestTimeout"/>,
    /// <see cref="System.Threading.Timeout.InfiniteTimeSpan"/> for no limit (long polling). WebSocket sessions never
    /// time out; their handshake does.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    private static readonly object StripPrefixKey = new();

    /// <summary>
    /// Called by <see cref="ResolveDestination"/> to strip the prefix for this request only, as if the route had
    /// <see cref="StripPrefix"/>: for a route whose upstreams differ (an IDE route where Jupyter takes a base URL
    /// and code-server has none).
    /// </summary>
    public static void StripPrefixFor(HttpContext context) => context.Items[StripPrefixKey] = true;

    internal static bool StripsPrefixFor(HttpContext context) => context.Items.ContainsKey(StripPrefixKey);

    /// <summary>
    /// Endpoint metadata for the route, such as <c>AllowAnonymousAttribute</c> or an <c>AuthorizeAttribute</c> with a
    /// policy, read by Web's authorization middleware before the request is forwarded.
    /// </summary>
    public IReadOnlyList<object> Metadata { get; init; } = [];
}
