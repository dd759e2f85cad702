using Platform.Core.Storage;

namespace Platform.Core.Tests.Storage;

public sealed class FileSystemObjectStoreTests : ObjectStoreContract, IAsyncLifetime, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-fs-store-{Guid.NewGuid():N}");
    private FileSystemObjectStore _store = null!;

    protected override IObjectStore Store => _store;

    public async Task InitializeAsync()
    {
        _store = new FileSystemObjectStore(_root);
        await _store.EnsureReadyAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task AnInterruptedWrite_LeavesTheOldObject_AndNoTemporaryFile()
    {
        var key = "kept/object";
        await _store.PutAsync(key, new MemoryStream([1, 2, 3]), 3);
        await Assert.ThrowsAsync<IOException>(() => _store.PutAsync(key, new FailingStream(), null));

        var head = await _store.HeadAsync(key);
        Assert.Equal(3, head!.Length);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_root, ".tmp")));
    }

    [Fact]
    public async Task Objects_StayInsideTheRoot()
    {
        await _store.PutAsync("a/b/c.txt", new MemoryStream([9]), 1);
        Assert.True(File.Exists(Path.Combine(_root, "objects", "a", "b", "c.txt")));
        Assert.Null(_store.PresignRead("a/b/c.txt", TimeSpan.FromMinutes(1)));
    }

    private sealed class FailingStream : Stream
    {
        private int _reads;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) =>
            ++_reads < 3 ? count : throw new IOException("connection reset by peer");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
