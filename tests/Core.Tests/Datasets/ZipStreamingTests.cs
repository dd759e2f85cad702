using System.IO.Compression;
using System.Security.Cryptography;
using Platform.Core.Datasets;

namespace Platform.Core.Tests.Datasets;

public sealed class ZipStreamingTests : IDisposable
{
    private const int Chunk = 64 * 1024;

    private readonly string _folder = Directory.CreateTempSubdirectory("platform-zip-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task WriteAsync_ToAStreamThatCannotSeek_GivesAZipThatOpens_WithStoredAndDeflatedEntries()
    {
        var random = RandomNumberGenerator.GetBytes(300_000);
        var noise = RandomNumberGenerator.GetBytes(300_000);
        var text = System.Text.Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a,b,c\n1,2,3\n", 10_000)));
        var output = new MemoryStream();
        var sink = new ForwardOnlyStream(output);
        await ZipStreaming.WriteAsync(sink, Sources(("photo.jpg", random), ("dir/table.csv", text), ("noise.bin", noise), ("empty.txt", [])), CancellationToken.None);

        // Sources write 64 KiB at a time: had any file's bytes been held back (written synchronously), one write would be larger.
        Assert.InRange(sink.LargestWrite, 1, Chunk);

        output.Position = 0;
        using var zip = new ZipArchive(output, ZipArchiveMode.Read);
        Assert.Equal(["photo.jpg", "dir/table.csv", "noise.bin", "empty.txt"], zip.Entries.Select(e => e.FullName));
        Assert.Equal(noise, Read(zip.GetEntry("noise.bin")!));
        Assert.Equal(random, Read(zip.GetEntry("photo.jpg")!));
        Assert.Equal(text, Read(zip.GetEntry("dir/table.csv")!));
        Assert.Empty(Read(zip.GetEntry("empty.txt")!));
        // Already-compressed formats are stored; text is deflated.
        Assert.Equal(random.Length, zip.GetEntry("photo.jpg")!.CompressedLength);
        Assert.True(zip.GetEntry("dir/table.csv")!.CompressedLength < text.Length / 10);
    }

    [Fact]
    public async Task WriteAsync_AnEntryOver4GiB_UsesZip64_AndTheEntriesAfterItStillOpen()
    {
        const long big = (4L << 30) + 12_345;
        var path = Path.Combine(_folder, "big.zip");
        var tail = "after the big one"u8.ToArray();
        await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20, useAsync: true))
        await using (var sink = new ForwardOnlyStream(file))
        {
            // Stored (.npz counts as compressed), so the archive itself passes 4 GiB and the next entry's offset needs zip64 too.
            await ZipStreaming.WriteAsync(sink, ToAsync(
                new ZipSource("weights.npz", DateTimeOffset.UtcNow, (target, ct) => WriteZerosAsync(target, big, ct)),
                new ZipSource("note.txt", DateTimeOffset.UtcNow, (target, ct) => target.WriteAsync(tail, ct).AsTask())), CancellationToken.None);
        }

        Assert.True(new FileInfo(path).Length > big);
        using var zip = ZipFile.OpenRead(path);
        var weights = zip.GetEntry("weights.npz")!;
        Assert.Equal(big, weights.Length);
        Assert.Equal(tail, Read(zip.GetEntry("note.txt")!));
        await using var content = await weights.OpenAsync();
        var buffer = new byte[1 << 20];
        long total = 0;
        int read;
        while ((read = await content.ReadAsync(buffer)) > 0)
        {
            Assert.True(buffer.AsSpan(0, read).IndexOfAnyExcept((byte)0) < 0, "only zeros were written");
            total += read;
        }

        Assert.Equal(big, total);
    }

    [Theory]
    [InlineData("a.png", CompressionLevel.NoCompression)]
    [InlineData("b/c.PARQUET", CompressionLevel.NoCompression)]
    [InlineData("d.csv", CompressionLevel.Fastest)]
    [InlineData("noextension", CompressionLevel.Fastest)]
    public void LevelFor_StoresCompressedFormats_AndDeflatesTheRest(string path, CompressionLevel expected) =>
        Assert.Equal(expected, ZipStreaming.LevelFor(path));

    private static async Task WriteZerosAsync(Stream target, long count, CancellationToken ct)
    {
        var zeros = new byte[1 << 20];
        for (long left = count; left > 0; left -= zeros.Length)
        {
            await target.WriteAsync(zeros.AsMemory(0, (int)Math.Min(zeros.Length, left)), ct);
        }
    }

    private static byte[] Read(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    private static IAsyncEnumerable<ZipSource> Sources(params (string Path, byte[] Bytes)[] files) =>
        ToAsync(files.Select(f => new ZipSource(f.Path, new DateTimeOffset(2026, 11, 21, 12, 0, 0, TimeSpan.Zero),
            async (target, ct) =>
            {
                for (var at = 0; at < f.Bytes.Length; at += Chunk)
                {
                    await target.WriteAsync(f.Bytes.AsMemory(at, Math.Min(Chunk, f.Bytes.Length - at)), ct);
                }
            })).ToArray());

#pragma warning disable CS1998 // an async iterator without awaits: the sources are already in hand
    private static async IAsyncEnumerable<ZipSource> ToAsync(params ZipSource[] sources)
    {
        foreach (var source in sources)
        {
            yield return source;
        }
    }
#pragma warning restore CS1998

    /// <summary>Like an HTTP response body: writes only, no seeking, no length, and synchronous writes refused.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => throw new InvalidOperationException("synchronous flush");
        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new InvalidOperationException("synchronous write");
        public int LargestWrite { get; private set; }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            LargestWrite = Math.Max(LargestWrite, buffer.Length);
            return inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
        protected override void Dispose(bool disposing) { }
    }
}
