using System.Globalization;
using System.Runtime.CompilerServices;

namespace Platform.Core.Storage;

/// <summary>
/// The embedded default: objects are files under <c>{root}/objects/</c>. Every write goes to a temporary file first and
/// is renamed into place once flushed to disk, so a crash leaves either the old object or the new one, never half.
/// Multipart uploads keep their parts under <c>{root}/.uploads/{uploadId}/</c> until completed or aborted.
/// </summary>
public sealed class FileSystemObjectStore(string root) : IObjectStore
{
    private const int BufferSize = 128 * 1024;

    private readonly string _objects = Path.Combine(Path.GetFullPath(root), "objects");
    private readonly string _temp = Path.Combine(Path.GetFullPath(root), ".tmp");
    private readonly string _uploads = Path.Combine(Path.GetFullPath(root), ".uploads");

    public string Kind => "filesystem";

    public string Location => Path.GetFullPath(root);

    public Task EnsureReadyAsync(CancellationToken ct = default)
    {
        Directory.CreateDirectory(_objects);
        Directory.CreateDirectory(_temp);
        Directory.CreateDirectory(_uploads);
        return Task.CompletedTask;
    }

    public async Task<ObjectInfo> PutAsync(string key, Stream content, long? length = null, CancellationToken ct = default)
    {
        var path = PathOf(key);
        var temp = await WriteTempAsync(async target => await content.CopyToAsync(target, BufferSize, ct), ct);
        if (length is { } expected && new FileInfo(temp).Length != expected)
        {
            var actual = new FileInfo(temp).Length;
            File.Delete(temp);
            throw new IOException($"The upload of '{key}' ended after {actual} of {expected} bytes; nothing was stored.");
        }

        return Commit(temp, path, key);
    }

    public Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct = default)
    {
        var file = new FileInfo(PathOf(key));
        return Task.FromResult(file.Exists ? InfoOf(key, file) : null);
    }

    public Task<ObjectReader?> OpenReadAsync(string key, ByteRange? range = null, CancellationToken ct = default)
    {
        var path = PathOf(key);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, useAsync: true);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return Task.FromResult<ObjectReader?>(null);
        }

        var info = InfoOf(key, new FileInfo(path));
        if (range is null)
        {
            return Task.FromResult<ObjectReader?>(new ObjectReader(stream, info, 0, info.Length));
        }

        if (range.From >= info.Length && info.Length > 0 || range.From < 0)
        {
            stream.Dispose();
            throw new ArgumentOutOfRangeException(nameof(range), $"Range starts at {range.From}, past the object's {info.Length} bytes.");
        }

        var length = Math.Max(0, range.LengthWithin(info.Length));
        stream.Seek(range.From, SeekOrigin.Begin);
        return Task.FromResult<ObjectReader?>(new ObjectReader(new BoundedStream(stream, length), info, range.From, length));
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        // The prefix may end mid-name ("data/fi"), so listing starts from the deepest whole folder it names.
        var folder = prefix.Contains('/') ? prefix[..(prefix.LastIndexOf('/') + 1)] : "";
        var start = Path.Combine(_objects, folder);
        if (!Directory.Exists(start))
        {
            yield break;
        }

        var keys = Directory.EnumerateFiles(start, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(_objects, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            ct.ThrowIfCancellationRequested();
            var file = new FileInfo(Path.Combine(_objects, key));
            if (file.Exists)
            {
                yield return InfoOf(key, file);
            }
        }

        await Task.CompletedTask;
    }

    public async Task CopyAsync(string sourceKey, string destinationKey, CancellationToken ct = default)
    {
        var source = PathOf(sourceKey);
        var destination = PathOf(destinationKey);
        if (!File.Exists(source))
        {
            throw new FileNotFoundException($"No object '{sourceKey}' to copy.");
        }

        var temp = await WriteTempAsync(async target =>
        {
            await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, BufferSize, useAsync: true);
            await input.CopyToAsync(target, BufferSize, ct);
        }, ct);
        Commit(temp, destination, destinationKey);
    }

    public Task DeleteAsync(string key, CancellationToken ct = default)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
            // Its folder never existed: the object is as gone as it can be.
        }

        return Task.CompletedTask;
    }

    public async Task DeleteManyAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default)
    {
        foreach (var key in keys)
        {
            ct.ThrowIfCancellationRequested();
            await DeleteAsync(key, ct);
        }
    }

    public Task<string> StartMultipartAsync(string key, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        var uploadId = Guid.NewGuid().ToString("N");
        var folder = Directory.CreateDirectory(Path.Combine(_uploads, uploadId));
        File.WriteAllText(Path.Combine(folder.FullName, "key"), key);
        return Task.FromResult(uploadId);
    }

    public async Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, Stream content, long length, CancellationToken ct = default)
    {
        var folder = UploadFolder(key, uploadId);
        if (partNumber is < 1 or > ObjectStoreLimits.MaxParts)
        {
            throw new ArgumentOutOfRangeException(nameof(partNumber), $"Part numbers run from 1 to {ObjectStoreLimits.MaxParts}.");
        }

        var temp = await WriteTempAsync(async target => await content.CopyToAsync(target, BufferSize, ct), ct);
        var received = new FileInfo(temp).Length;
        if (received != length)
        {
            File.Delete(temp);
            throw new IOException($"Part {partNumber} ended after {received} of {length} bytes; send it again.");
        }

        var partPath = Path.Combine(folder, PartName(partNumber));
        File.Move(temp, partPath, overwrite: true);
        return PartOf(partNumber, new FileInfo(partPath));
    }

    public Task<IReadOnlyList<UploadedPart>> ListPartsAsync(string key, string uploadId, CancellationToken ct = default)
    {
        var folder = UploadFolder(key, uploadId);
        IReadOnlyList<UploadedPart> parts = Directory.EnumerateFiles(folder, "part-*")
            .Select(f => PartOf(int.Parse(Path.GetFileName(f)[5..], CultureInfo.InvariantCulture), new FileInfo(f)))
            .OrderBy(p => p.PartNumber)
            .ToList();
        return Task.FromResult(parts);
    }

    public async Task<ObjectInfo> CompleteMultipartAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default)
    {
        var folder = UploadFolder(key, uploadId);
        var received = (await ListPartsAsync(key, uploadId, ct)).ToDictionary(p => p.PartNumber);
        ObjectStoreLimits.ValidateCompletion(parts, received);
        var temp = await WriteTempAsync(async target =>
        {
            foreach (var part in parts)
            {
                await using var input = new FileStream(Path.Combine(folder, PartName(part.PartNumber)), FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, useAsync: true);
                await input.CopyToAsync(target, BufferSize, ct);
            }
        }, ct);
        var info = Commit(temp, PathOf(key), key);
        Directory.Delete(folder, recursive: true);
        return info;
    }

    public Task AbortMultipartAsync(string key, string uploadId, CancellationToken ct = default)
    {
        var folder = Path.Combine(_uploads, SafeUploadId(uploadId));
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Files have no URL of their own: the platform serves them (with range support) itself.</summary>
    public Uri? PresignRead(string key, TimeSpan expiry, string? downloadFileName = null) => null;

    private string PathOf(string key) => Path.Combine(_objects, ObjectKey.Validate(key));

    private string UploadFolder(string key, string uploadId)
    {
        var folder = Path.Combine(_uploads, SafeUploadId(uploadId));
        var keyFile = Path.Combine(folder, "key");
        if (!File.Exists(keyFile) || File.ReadAllText(keyFile) != key)
        {
            throw new KeyNotFoundException($"No multipart upload '{uploadId}' for '{key}': it was completed, aborted or never started.");
        }

        return folder;
    }

    private static string SafeUploadId(string uploadId) =>
        uploadId.Length == 32 && uploadId.All(char.IsAsciiHexDigitLower) ? uploadId : throw new KeyNotFoundException($"No multipart upload '{uploadId}'.");

    private static string PartName(int partNumber) => $"part-{partNumber:D5}";

    private static UploadedPart PartOf(int partNumber, FileInfo file) =>
        new(partNumber, $"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}", file.Length);

    private static ObjectInfo InfoOf(string key, FileInfo file) =>
        new(key, file.Length, new DateTimeOffset(file.LastWriteTimeUtc, TimeSpan.Zero), $"\"{file.Length:x}-{file.LastWriteTimeUtc.Ticks:x}\"");

    private async Task<string> WriteTempAsync(Func<FileStream, Task> write, CancellationToken ct)
    {
        Directory.CreateDirectory(_temp);
        var temp = Path.Combine(_temp, Guid.NewGuid().ToString("N"));
        try
        {
            await using var target = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize, useAsync: true);
            await write(target);
            await target.FlushAsync(ct);
            target.Flush(flushToDisk: true);
            return temp;
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    private static ObjectInfo Commit(string temp, string path, string key)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.Move(temp, path, overwrite: true);
        return InfoOf(key, new FileInfo(path));
    }
}

/// <summary>Reads at most a given number of bytes from an inner stream, then reports its end.</summary>
internal sealed class BoundedStream(Stream inner, long limit) : ReadOnlyStream
{
    private readonly long _length = limit;
    private long _remaining = limit;

    public override long Length => _length;
    public override long Position { get => _length - _remaining; set => throw new NotSupportedException(); }

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining == 0)
        {
            return 0;
        }

        var read = await inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken);
        _remaining -= read;
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
