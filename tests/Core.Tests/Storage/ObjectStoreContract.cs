using System.Security.Cryptography;
using Platform.Core.Storage;

namespace Platform.Core.Tests.Storage;

/// <summary>
/// What every <see cref="IObjectStore"/> promises, run against each implementation (the filesystem store and S3 on a
/// real server). A store passes only if it behaves the same as the others from the caller's side.
/// </summary>
public abstract class ObjectStoreContract
{
    protected abstract IObjectStore Store { get; }

    private static string NewKey(string name = "file.bin") => $"contract/{Guid.NewGuid():N}/{name}";

    private static byte[] RandomBytes(int length) => RandomNumberGenerator.GetBytes(length);

    private async Task<byte[]> ReadAllAsync(string key, ByteRange? range = null)
    {
        await using var reader = await Store.OpenReadAsync(key, range) ?? throw new InvalidOperationException($"{key} missing");
        using var copy = new MemoryStream();
        await reader.Content.CopyToAsync(copy);
        Assert.Equal(reader.Length, copy.Length);
        return copy.ToArray();
    }

    [Fact]
    public async Task Put_ThenRead_ReturnsTheSameBytes_AndHeadTheLength()
    {
        var key = NewKey();
        var bytes = RandomBytes(3 * 1024 * 1024 + 17);
        var info = await Store.PutAsync(key, new MemoryStream(bytes), bytes.Length);
        Assert.Equal(bytes.Length, info.Length);
        Assert.Equal(bytes, await ReadAllAsync(key));
        Assert.Equal(bytes.Length, (await Store.HeadAsync(key))!.Length);
    }

    [Fact]
    public async Task ZeroByteObject_IsStoredAndRead()
    {
        var key = NewKey("empty");
        await Store.PutAsync(key, new MemoryStream(), 0);
        Assert.Empty(await ReadAllAsync(key));
        Assert.Equal(0, (await Store.HeadAsync(key))!.Length);
    }

    [Fact]
    public async Task MissingObject_IsNull_ForHeadAndRead()
    {
        Assert.Null(await Store.HeadAsync(NewKey()));
        Assert.Null(await Store.OpenReadAsync(NewKey()));
    }

    [Fact]
    public async Task RangeReads_ReturnTheRequestedBytes_AndTheWholeLength()
    {
        var key = NewKey();
        var bytes = RandomBytes(100_000);
        await Store.PutAsync(key, new MemoryStream(bytes), bytes.Length);

        Assert.Equal(bytes[1000..2000], await ReadAllAsync(key, new ByteRange(1000, 1999)));
        Assert.Equal(bytes[99_000..], await ReadAllAsync(key, new ByteRange(99_000, null)));
        Assert.Equal(bytes[99_990..], await ReadAllAsync(key, new ByteRange(99_990, 200_000)));
        await using var reader = await Store.OpenReadAsync(key, new ByteRange(10, 19));
        Assert.Equal(100_000, reader!.Info.Length);
        Assert.Equal(10, reader.Offset);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Store.OpenReadAsync(key, new ByteRange(200_000, null)));
    }

    [Fact]
    public async Task UnknownLengthStream_LargerThanOnePart_IsStoredWhole()
    {
        var key = NewKey("big.bin");
        var bytes = RandomBytes(ObjectStoreLimits.DefaultPartSize * 2 + 12_345);
        var info = await Store.PutAsync(key, new NonSeekableStream(bytes));
        Assert.Equal(bytes.Length, info.Length);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await ReadAllAsync(key)));
    }

    [Fact]
    public async Task ShortStream_ForADeclaredLength_StoresNothing()
    {
        var key = NewKey();
        await Assert.ThrowsAsync<IOException>(() => Store.PutAsync(key, new MemoryStream(RandomBytes(10)), 11));
        Assert.Null(await Store.HeadAsync(key));
    }

    [Fact]
    public async Task Overwrite_ReplacesTheObject()
    {
        var key = NewKey();
        await Store.PutAsync(key, new MemoryStream(RandomBytes(50)), 50);
        var second = RandomBytes(20);
        await Store.PutAsync(key, new MemoryStream(second), 20);
        Assert.Equal(second, await ReadAllAsync(key));
    }

    [Fact]
    public async Task List_GivesTheKeysUnderAPrefix_InOrdinalOrder()
    {
        var root = $"contract/{Guid.NewGuid():N}/";
        foreach (var name in new[] { "b/2", "a", "b/1", "c.txt", "B" })
        {
            await Store.PutAsync(root + name, new MemoryStream([1, 2, 3]), 3);
        }

        var all = await Store.ListAsync(root).Select(o => o.Key[root.Length..]).ToListAsync();
        Assert.Equal(["B", "a", "b/1", "b/2", "c.txt"], all);
        var underB = await Store.ListAsync(root + "b/").Select(o => o.Key[root.Length..]).ToListAsync();
        Assert.Equal(["b/1", "b/2"], underB);
        var partial = await Store.ListAsync(root + "c").Select(o => o.Length).ToListAsync();
        Assert.Equal([3L], partial);
        Assert.Empty(await Store.ListAsync($"contract/{Guid.NewGuid():N}/").ToListAsync());
    }

    [Fact]
    public async Task Copy_MakesAnIndependentObject()
    {
        var source = NewKey("source");
        var destination = NewKey("destination");
        var bytes = RandomBytes(4096);
        await Store.PutAsync(source, new MemoryStream(bytes), bytes.Length);
        await Store.CopyAsync(source, destination);
        await Store.DeleteAsync(source);
        Assert.Equal(bytes, await ReadAllAsync(destination));
        await Assert.ThrowsAsync<FileNotFoundException>(() => Store.CopyAsync(NewKey("nothing"), NewKey()));
    }

    [Fact]
    public async Task Delete_IsIdempotent_AndDeleteManyRemovesEach()
    {
        var keys = Enumerable.Range(0, 5).Select(i => NewKey($"f{i}")).ToList();
        foreach (var key in keys)
        {
            await Store.PutAsync(key, new MemoryStream([7]), 1);
        }

        await Store.DeleteAsync(keys[0]);
        await Store.DeleteAsync(keys[0]);
        await Store.DeleteManyAsync(keys.Skip(1).Append(NewKey("never-existed")).ToList());
        foreach (var key in keys)
        {
            Assert.Null(await Store.HeadAsync(key));
        }
    }

    [Fact]
    public async Task Multipart_ResumesFromTheListedParts_AndCompletesInOrder()
    {
        var key = NewKey("multi.bin");
        var parts = new[] { RandomBytes((int)ObjectStoreLimits.MinPartSize), RandomBytes((int)ObjectStoreLimits.MinPartSize), RandomBytes(1234) };
        var uploadId = await Store.StartMultipartAsync(key);

        // Parts 1 and 3 arrive, then the connection "drops"; the resumed upload asks what is there and sends part 2.
        await Store.UploadPartAsync(key, uploadId, 1, new MemoryStream(parts[0]), parts[0].Length);
        await Store.UploadPartAsync(key, uploadId, 3, new MemoryStream(parts[2]), parts[2].Length);
        var received = await Store.ListPartsAsync(key, uploadId);
        Assert.Equal([1, 3], received.Select(p => p.PartNumber));
        Assert.Null(await Store.HeadAsync(key));

        await Store.UploadPartAsync(key, uploadId, 2, new MemoryStream(parts[1]), parts[1].Length);
        var all = await Store.ListPartsAsync(key, uploadId);
        var info = await Store.CompleteMultipartAsync(key, uploadId, all);
        Assert.Equal(parts.Sum(p => p.Length), info.Length);
        Assert.Equal(parts.SelectMany(p => p).ToArray(), await ReadAllAsync(key));
    }

    [Fact]
    public async Task Multipart_RefusesASmallMiddlePart_AndAbortLeavesNothing()
    {
        var key = NewKey("small-parts.bin");
        var uploadId = await Store.StartMultipartAsync(key);
        await Store.UploadPartAsync(key, uploadId, 1, new MemoryStream(RandomBytes(100)), 100);
        await Store.UploadPartAsync(key, uploadId, 2, new MemoryStream(RandomBytes(100)), 100);
        var parts = await Store.ListPartsAsync(key, uploadId);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.CompleteMultipartAsync(key, uploadId, parts));

        await Store.AbortMultipartAsync(key, uploadId);
        Assert.Null(await Store.HeadAsync(key));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => Store.ListPartsAsync(key, uploadId));
        await Store.AbortMultipartAsync(key, uploadId);
    }

    [Fact]
    public async Task Multipart_ShortPart_IsRefused()
    {
        var key = NewKey();
        var uploadId = await Store.StartMultipartAsync(key);
        await Assert.ThrowsAsync<IOException>(() => Store.UploadPartAsync(key, uploadId, 1, new MemoryStream(RandomBytes(10)), 20));
        await Store.AbortMultipartAsync(key, uploadId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("/absolute")]
    [InlineData("a/../../escape")]
    [InlineData("a/./b")]
    [InlineData("a//b")]
    [InlineData("back\\slash")]
    [InlineData("control\u0001char")]
    [InlineData("new\nline")]
    public async Task InvalidKeys_AreRefused_BeforeAnyByteIsStored(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new MemoryStream([1]), 1));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.HeadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync(key));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync(key));
    }

    [Fact]
    public async Task TooLongKey_IsRefused()
    {
        var key = "a/" + new string('x', ObjectKey.MaxBytes);
        await Assert.ThrowsAsync<ArgumentException>(() => Store.PutAsync(key, new MemoryStream([1]), 1));
    }

    /// <summary>A network-like body: read once, no length, no seeking.</summary>
    protected sealed class NonSeekableStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        // Short reads, as sockets give, so buffering code cannot assume full reads.
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 65_536));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(_inner.Read(buffer.Span[..Math.Min(buffer.Length, 65_536)]));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
