using Microsoft.AspNetCore.Http.Features;

namespace Platform.Web.FrontDoor;

/// <summary>
/// Builds the upstream address of a request. The path is forwarded byte for byte as the client sent it, so
/// percent-encodings survive: Kestrel decodes <see cref="HttpRequest.Path"/> (all but %2F), and re-encoding the
/// decoded form would turn a client's <c>%2541</c> into <c>%41</c>, a different path.
/// </summary>
internal static class DestinationAddress
{
    // Without this, Uri would canonicalise the path (unescape, remove dot segments) and undo the verbatim copy.
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    /// <summary>The full upstream address: base address + forwarded path + the query exactly as received.</summary>
    public static Uri Build(Uri baseAddress, string path, QueryString query, bool webSocket)
    {
        var scheme = baseAddress.Scheme;
        if (webSocket)
        {
            scheme = scheme == Uri.UriSchemeHttps ? Uri.UriSchemeWss : Uri.UriSchemeWs;
        }

        // AbsolutePath is already escaped; user info in the base address is left behind on purpose.
        var basePath = baseAddress.AbsolutePath.TrimEnd('/');
        return new Uri($"{scheme}://{baseAddress.Authority}{basePath}{path}{query.Value}", in Verbatim);
    }

    /// <summary>
    /// Splits the request path into the prefix the upstream does not see (the app's PathBase plus
    /// <paramref name="strippedSegments"/> segments of the route prefix) and the path it does.
    /// </summary>
    public static (string Path, string Prefix) Split(HttpContext context, int strippedSegments)
    {
        var full = RequestPath(context);
        var skip = SegmentCount(context.Request.PathBase.Value) + strippedSegments;
        var end = 0;
        for (var i = 0; i < skip && end < full.Length; i++)
        {
            var next = full.IndexOf('/', end + 1);
            end = next < 0 ? full.Length : next;
        }

        var path = end == full.Length ? "/" : full[end..];
        return (path, full[..end]);
    }

    /// <summary>The number of '/'-separated segments in a path or route template prefix.</summary>
    public static int SegmentCount(string? path) =>
        string.IsNullOrEmpty(path) ? 0 : path.Split('/', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>
    /// The raw request path when it is safe to forward as is. A path with dot segments is the exception: routing
    /// and authorisation saw Kestrel's normalised path, so the upstream must see that one too, or
    /// <c>/ide/1/../2/</c> would be authorised for workload 2 and served by workload 1's path.
    /// </summary>
    private static string RequestPath(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (raw is { Length: > 0 } && raw[0] == '/')
        {
            var queryStart = raw.IndexOf('?');
            var rawPath = queryStart < 0 ? raw : raw[..queryStart];
            if (!HasDotSegment(rawPath))
            {
                return rawPath;
            }
        }

        return (context.Request.PathBase + context.Request.Path).ToUriComponent();
    }

    private static bool HasDotSegment(string rawPath)
    {
        if (!rawPath.Contains('.') && !rawPath.Contains("%2e", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var segment in rawPath.Split('/'))
        {
            var decoded = segment.Replace("%2e", ".", StringComparison.OrdinalIgnoreCase);
            if (decoded is "." or "..")
            {
                return true;
            }
        }

        return false;
    }
}
