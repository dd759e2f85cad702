using System.Buffers;
using System.Net;

namespace Platform.Web.FrontDoor;

/// <summary>
/// The incoming request body as outgoing content, copied piece by piece and flushed after every piece.
/// StreamContent does not flush: SocketsHttpHandler then holds small pieces in its connection write buffer until
/// the body ends, so a client that sends a little and waits for an answer (an interactive upload, a streamed
/// protocol over POST) would wait forever.
/// </summary>
internal sealed class StreamingBodyContent(Stream body, int bufferSize) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(bufferSize);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, bufferSize), cancellationToken)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    // Unknown here: a Content-Length the client sent is copied as a header, otherwise the body goes out chunked.
    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
