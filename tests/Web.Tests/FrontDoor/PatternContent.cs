using System.Net;
using System.Security.Cryptography;

namespace Platform.Web.Tests.FrontDoor;

/// <summary>
/// A request body generated while it is sent (never held whole), in the upstream's byte pattern, hashed on the
/// way out; optionally it stops after <c>gatePosition</c> bytes until <c>gate</c> completes.
/// </summary>
public sealed class PatternContent(long size, bool announceLength, long gatePosition = -1, Func<Task>? gate = null) : HttpContent
{
    public string Sha256 { get; private set; } = "";

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[64 * 1024];
        for (long written = 0; written < size;)
        {
            if (written == gatePosition && gate is not null)
            {
                await stream.FlushAsync();
                await gate();
            }

            var limit = written < gatePosition ? gatePosition : size;
            var count = (int)Math.Min(buffer.Length, limit - written);
            for (var i = 0; i < count; i++)
            {
                buffer[i] = TestUpstream.PatternAt(written + i);
            }

            hash.AppendData(buffer, 0, count);
            await stream.WriteAsync(buffer.AsMemory(0, count));
            written += count;
        }

        Sha256 = Convert.ToHexString(hash.GetHashAndReset());
    }

    protected override bool TryComputeLength(out long length)
    {
        length = announceLength ? size : 0;
        return announceLength;
    }
}
