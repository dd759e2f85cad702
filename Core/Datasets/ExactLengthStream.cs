namespace Platform.Core.Datasets;

/// <summary>
/// Passes at most <c>length</c> bytes through and fails with <see cref="IOException"/> when the body holds more, so a
/// part of unknown length is stored only when it is exactly its size (a short one the store refuses itself).
/// </summary>
internal sealed class ExactLengthStream(Stream inner, long length) : Storage.ReadOnlyStream
{
    private readonly long _length = length;
    private long _left = length;

    public override int Read(Span<byte> buffer) => throw new NotSupportedException("Read asynchronously.");

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_left == 0)
        {
            await EnsureEndAsync(cancellationToken);
            return 0;
        }

        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _left)], cancellationToken);
        _left -= read;
        if (_left == 0)
        {
            // Stores that read exactly the part's length never ask again: look for extra bytes now.
            await EnsureEndAsync(cancellationToken);
        }

        return read;
    }

    private async Task EnsureEndAsync(CancellationToken ct)
    {
        var probe = new byte[1];
        if (await inner.ReadAsync(probe, ct) > 0)
        {
            throw new IOException($"The body is longer than the part's {_length} bytes; nothing was stored for this part.");
        }
    }
}
