using System.Buffers;
using System.Net;
using Microsoft.AspNetCore.Http.Features;

namespace Platform.Web.FrontDoor;

/// <summary>
/// Forwards one HTTP request to an upstream and relays its response, streaming both bodies: neither is ever held
/// whole in memory, so a multi-gigabyte dataset upload or a followed log passes through in 64 KiB pieces.
/// </summary>
public sealed class HttpForwarder(
    [FromKeyedServices(FrontDoorExtensions.InvokerKey)] HttpMessageInvoker invoker,
    ILogger<HttpForwarder> logger)
{
    private const int BufferSize = 64 * 1024;

    public async Task ForwardAsync(HttpContext context, ForwardRequest forward)
    {
        // Uploads are as large as the upstream accepts: it enforces its own limit, and Kestrel's 30 MB default
        // would cut dataset uploads short here. Settable only before the body is read, hence first.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = null;
        }

        using var upstreamRequest = CreateRequest(context, forward);
        using var timeout = forward.StartTimeout(context.RequestAborted);
        HttpResponseMessage upstreamResponse;
        try
        {
            // An invoker returns as soon as the response headers are in; the body is read below, as it comes.
            upstreamResponse = await invoker.SendAsync(upstreamRequest, timeout.Token);
        }
        catch (Exception ex) when (UpstreamFailure.IsExchangeFailure(ex))
        {
            var kind = UpstreamFailure.Classify(ex, context, timeout.IsCancellationRequested);
            await UpstreamFailure.AnswerAsync(context, forward, kind, ex, logger);
            return;
        }

        using (upstreamResponse)
        {
            // The limit is on the wait for headers only; the body may stream for as long as both ends want.
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
            await RelayResponseAsync(context, forward, upstreamResponse);
        }
    }

    private static HttpRequestMessage CreateRequest(HttpContext context, ForwardRequest forward)
    {
        var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), forward.Destination)
        {
            // Upstreams are our own services and workload servers on plain HTTP/1.1 (no h2c); an https one may upgrade.
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
        };

        // Only a request that carries a body gets content, so GET, HEAD and DELETE go out without one.
        if (HasBody(context))
        {
            request.Content = new StreamingBodyContent(context.Request.Body, BufferSize);
        }

        foreach (var (name, values) in ProxyHeaders.ForRequest(context, forward.Prefix))
        {
            // Content-* headers belong to the content and are refused on the request; without content they are dropped.
            if (!request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        return request;
    }

    private static bool HasBody(HttpContext context) =>
        context.Features.Get<IHttpRequestBodyDetectionFeature>() is { } detection
            ? detection.CanHaveBody
            : context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0;

    private async Task RelayResponseAsync(HttpContext context, ForwardRequest forward, HttpResponseMessage upstream)
    {
        var response = context.Response;
        response.StatusCode = (int)upstream.StatusCode;
        ProxyHeaders.CopyResponseHeaders(upstream, response);
        // Kestrel chooses its own framing (chunked or Content-Length) for the client connection.
        response.Headers.TransferEncoding = default;
        // Server-sent events and followed logs must reach the browser as the upstream writes them.
        context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

        // A body of unknown length is a stream that may stay quiet for a while (events, logs): send the headers
        // now so the client sees the response open. A body of known length goes out with its first bytes.
        if (upstream.Content.Headers.ContentLength is null)
        {
            await response.StartAsync(context.RequestAborted);
        }

        await using var body = await upstream.Content.ReadAsStreamAsync(context.RequestAborted);
        var failure = await CopyAsync(body, response.Body, context.RequestAborted);
        if (failure is null)
        {
            return;
        }

        if (response.HasStarted)
        {
            // The status line is out; breaking the connection is the only way left to tell the client it is incomplete.
            logger.ResponseBrokenOff(forward.Upstream, forward.Destination.GetLeftPart(UriPartial.Path), failure);
            context.Abort();
            return;
        }

        response.Clear();
        await UpstreamFailure.AnswerAsync(context, forward, UpstreamFailure.Classify(failure, context, timerFired: false), failure, logger);
    }

    /// <summary>
    /// Copies the upstream body to the client, flushing every piece. Returns the upstream's failure, if any;
    /// a client that goes away simply ends the copy, which disposes the upstream response and so cancels it too.
    /// </summary>
    private static async Task<Exception?> CopyAsync(Stream source, Stream destination, CancellationToken aborted)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await source.ReadAsync(buffer.AsMemory(0, BufferSize), aborted);
                }
                catch (Exception ex) when (UpstreamFailure.IsExchangeFailure(ex))
                {
                    return aborted.IsCancellationRequested ? null : ex;
                }

                if (read == 0)
                {
                    return null;
                }

                try
                {
                    await destination.WriteAsync(buffer.AsMemory(0, read), aborted);
                    await destination.FlushAsync(aborted);
                }
                catch (Exception ex) when (ex is IOException or OperationCanceledException)
                {
                    return null;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
