using System.IO.Compression;

namespace Platform.Core.Datasets;

/// <summary>One file to put in a streamed zip: its path inside the archive and how to write its bytes when its turn comes.</summary>
public sealed record ZipSource(string Path, DateTimeOffset LastWriteTime, Func<Stream, CancellationToken, Task> CopyToAsync);

/// <summary>
/// Writes a zip to a stream that need not seek (an HTTP response body): each entry's sizes and CRC follow its data in a
/// data descriptor, and entries over 4 GiB get zip64 records. One entry is open at a time and sources copy their bytes
/// in fixed-size chunks, so memory stays flat whatever the file sizes; only the central directory (a small record per
/// entry) is kept until the end.
/// </summary>
public static class ZipStreaming
{
    /// <summary>Formats that are compressed already: stored as they are, since deflating them costs time and gains nothing.</summary>
    private static readonly HashSet<string> Compressed = new(StringComparer.OrdinalIgnoreCase)
    {
        ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".lz4", ".7z", ".rar", ".br",
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".avif", ".heic",
        ".mp3", ".mp4", ".m4a", ".mkv", ".webm", ".ogg", ".flac", ".mov", ".avi",
        ".parquet", ".npz", ".pt", ".pth", ".safetensors", ".onnx", ".h5", ".tfrecord", ".jar", ".whl", ".pdf", ".docx", ".xlsx", ".pptx",
    };

    /// <summary>Stored for already-compressed formats, the fastest deflate for everything else.</summary>
    public static CompressionLevel LevelFor(string path) =>
        Compressed.Contains(System.IO.Path.GetExtension(path)) ? CompressionLevel.NoCompression : CompressionLevel.Fastest;

    /// <summary>Writes every source in order, then the central directory; <paramref name="output"/> stays open.</summary>
    public static async Task WriteAsync(Stream output, IAsyncEnumerable<ZipSource> sources, CancellationToken ct)
    {
        var bridge = new AsyncWriteBridge(output);
        await using (var zip = await ZipArchive.CreateAsync(bridge, ZipArchiveMode.Create, leaveOpen: true, entryNameEncoding: null, ct))
        {
            await foreach (var source in sources.WithCancellation(ct))
            {
                var entry = zip.CreateEntry(source.Path, LevelFor(source.Path));
                entry.LastWriteTime = Clamp(source.LastWriteTime);
                await using (var target = await entry.OpenAsync(ct))
                {
                    await source.CopyToAsync(target, ct);
                }

                await bridge.DrainAsync(ct);
            }
        }

        await bridge.DrainAsync(ct);
        await output.FlushAsync(ct);
    }

    /// <summary>Zip (DOS) times run from 1980 to 2107.</summary>
    private static DateTimeOffset Clamp(DateTimeOffset time) =>
        time.Year < 1980 ? new DateTimeOffset(1980, 1, 1, 0, 0, 0, TimeSpan.Zero)
        : time.Year > 2107 ? new DateTimeOffset(2107, 12, 31, 0, 0, 0, TimeSpan.Zero)
        : time;
}

/// <summary>
/// ZipArchive writes some records synchronously even from its async API (an entry's data descriptor on dispose, the
/// central directory at the end), and a response body refuses synchronous writes. Those small writes are held here and
/// passed on asynchronously, before the next async write or at <see cref="DrainAsync"/>; file bytes go straight through.
/// </summary>
internal sealed class AsyncWriteBridge(Stream inner) : Stream
{
    private readonly MemoryStream _pending = new();

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public async Task DrainAsync(CancellationToken ct)
    {
        if (_pending.Length > 0)
        {
            await inner.WriteAsync(_pending.GetBuffer().AsMemory(0, (int)_pending.Length), ct);
            _pending.SetLength(0);
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => _pending.Write(buffer, offset, count);

    public override void Write(ReadOnlySpan<byte> buffer) => _pending.Write(buffer);

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await DrainAsync(cancellationToken);
        await inner.WriteAsync(buffer, cancellationToken);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Nothing to do synchronously: held bytes leave at the next drain.</summary>
    public override void Flush()
    {
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await DrainAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
