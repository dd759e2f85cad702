using System.Collections.Frozen;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Primitives;

namespace Platform.Web.FrontDoor;

/// <summary>
/// Which headers cross the front door. Hop-by-hop headers (RFC 9110 section 7.6.1) describe one connection, not
/// the message, so they stop here in both directions, together with any header the Connection header names.
/// </summary>
internal static class ProxyHeaders
{
    public const string ForwardedFor = "X-Forwarded-For";
    public const string ForwardedProto = "X-Forwarded-Proto";
    public const string ForwardedHost = "X-Forwarded-Host";
    public const string ForwardedPrefix = "X-Forwarded-Prefix";

    private static readonly FrozenSet<string> HopByHop = FrozenSet.ToFrozenSet(
        ["Connection", "Keep-Alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade"],
        StringComparer.OrdinalIgnoreCase);

    // Not hop-by-hop, but ours to set: Host is the destination's; the X-Forwarded-* describe what this proxy saw,
    // so a client cannot claim another host, scheme or prefix; Expect because Kestrel has already answered
    // 100-continue by the time the body is read, and echoing it would make the upstream hop wait for another.
    private static readonly FrozenSet<string> Replaced = FrozenSet.ToFrozenSet(
        ["Host", "Expect", ForwardedFor, ForwardedProto, ForwardedHost, ForwardedPrefix],
        StringComparer.OrdinalIgnoreCase);

    /// <summary>The request headers to send upstream, X-Forwarded-* included.</summary>
    public static IEnumerable<KeyValuePair<string, StringValues>> ForRequest(HttpContext context, string? prefix)
    {
        var request = context.Request;
        var connectionTokens = ConnectionTokens(request.Headers.Connection);
        foreach (var (name, values) in request.Headers)
        {
            // ':'-names are HTTP/2 and HTTP/3 pseudo-headers, which belong to the incoming connection.
            if (name.StartsWith(':') || IsHopByHop(name, connectionTokens) || Replaced.Contains(name))
            {
                continue;
            }

            // HTTP/2 clients may split cookies into several fields; HTTP/1.1 allows one Cookie line, joined by "; ".
            yield return values.Count > 1 && name.Equals("Cookie", StringComparison.OrdinalIgnoreCase)
                ? new(name, string.Join("; ", values.ToArray()))
                : new(name, values);
        }

        var forwardedFor = AppendForwardedFor(request.Headers[ForwardedFor], context.Connection.RemoteIpAddress);
        if (!StringValues.IsNullOrEmpty(forwardedFor))
        {
            yield return new(ForwardedFor, forwardedFor);
        }

        yield return new(ForwardedProto, request.Scheme);
        if (request.Host.HasValue)
        {
            yield return new(ForwardedHost, request.Host.Value);
        }

        if (!string.IsNullOrEmpty(prefix))
        {
            yield return new(ForwardedPrefix, prefix);
        }
    }

    /// <summary>Copies the upstream's status headers and content headers onto the response, minus hop-by-hop ones.</summary>
    public static void CopyResponseHeaders(HttpResponseMessage upstream, HttpResponse response)
    {
        // NonValidated: pass values through as the upstream wrote them, without parsing and re-serialising.
        var connection = upstream.Headers.NonValidated.TryGetValues("Connection", out var tokens)
            ? new StringValues([.. tokens])
            : StringValues.Empty;
        var connectionTokens = ConnectionTokens(connection);
        Copy(upstream.Headers.NonValidated, response.Headers, connectionTokens);
        Copy(upstream.Content.Headers.NonValidated, response.Headers, connectionTokens);
    }

    private static void Copy(HttpHeadersNonValidated source, IHeaderDictionary target, FrozenSet<string>? connectionTokens)
    {
        foreach (var (name, values) in source)
        {
            if (IsHopByHop(name, connectionTokens))
            {
                continue;
            }

            target[name] = values.Count == 1 ? new StringValues(values.ToString()) : new StringValues([.. values]);
        }
    }

    private static bool IsHopByHop(string name, FrozenSet<string>? connectionTokens) =>
        HopByHop.Contains(name)
        || name.StartsWith("Proxy-", StringComparison.OrdinalIgnoreCase)
        || connectionTokens?.Contains(name) == true;

    private static FrozenSet<string>? ConnectionTokens(StringValues connection)
    {
        if (StringValues.IsNullOrEmpty(connection))
        {
            return null;
        }

        return connection
            .SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .ToFrozenSet(StringComparer.OrdinalIgnoreCase);
    }

    private static StringValues AppendForwardedFor(StringValues existing, IPAddress? remote)
    {
        if (remote is null)
        {
            return existing;
        }

        var address = (remote.IsIPv4MappedToIPv6 ? remote.MapToIPv4() : remote).ToString();
        return StringValues.IsNullOrEmpty(existing) ? address : $"{string.Join(", ", existing.ToArray())}, {address}";
    }
}
