namespace Platform.Core.Storage;

public sealed record ObjectInfo(string Key, long Length, DateTimeOffset LastModified, string? ETag);

/// <summary>An inclusive byte range, as HTTP Range has it: <c>From</c> to <c>To</c>, or to the end when <c>To</c> is null.</summary>
public sealed record ByteRange(long From, long? To)
{
    public long LengthWithin(long total) => Math.Min(To ?? total - 1, total - 1) - From + 1;
}

public sealed record UploadedPart(int PartNumber, string ETag, long Length);

/// <summary>An open object: the caller reads <see cref="Content"/> (only the requested range) and disposes the whole.</summary>
public sealed class ObjectReader(Stream content, ObjectInfo info, long offset, long length, IDisposable? owner = null) : IAsyncDisposable
{
    public Stream Content { get; } = content;
    public ObjectInfo Info { get; } = info;

    /// <summary>Where <see cref="Content"/> starts in the object, and how many bytes it holds.</summary>
    public long Offset { get; } = offset;
    public long Length { get; } = length;

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        owner?.Dispose();
    }
}

/// <summary>
/// Where datasets, models and artifacts keep their bytes. Streams only: no implementation holds a whole object in
/// memory (at most one multipart part). Keys are platform-made paths (see <see cref="ObjectKey"/>), never user input.
/// </summary>
public interface IObjectStore
{
    /// <summary>"filesystem" or "s3", for the admin page and logs.</summary>
    string Kind { get; }

    /// <summary>Where the bytes go, without secrets (a folder, or endpoint and bucket).</summary>
    string Location { get; }

    /// <summary>Creates the folder or bucket when missing; safe to call at every start.</summary>
    Task EnsureReadyAsync(CancellationToken ct = default);

    /// <summary>Writes an object from a stream of known or unknown length, replacing any object under the key.</summary>
    Task<ObjectInfo> PutAsync(string key, Stream content, long? length = null, CancellationToken ct = default);

    Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct = default);

    /// <summary>Opens an object, or the given range of it; null when there is no such object.</summary>
    Task<ObjectReader?> OpenReadAsync(string key, ByteRange? range = null, CancellationToken ct = default);

    /// <summary>Objects whose keys start with <paramref name="prefix"/>, in ordinal key order.</summary>
    IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, CancellationToken ct = default);

    Task CopyAsync(string sourceKey, string destinationKey, CancellationToken ct = default);

    /// <summary>Deletes; a missing key is not an error.</summary>
    Task DeleteAsync(string key, CancellationToken ct = default);

    Task DeleteManyAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default);

    /// <summary>Multipart, for large and resumable uploads: parts of at least <see cref="ObjectStoreLimits.MinPartSize"/> but the last.</summary>
    Task<string> StartMultipartAsync(string key, CancellationToken ct = default);

    Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, Stream content, long length, CancellationToken ct = default);

    /// <summary>The parts received so far: what a resumed upload need not send again.</summary>
    Task<IReadOnlyList<UploadedPart>> ListPartsAsync(string key, string uploadId, CancellationToken ct = default);

    Task<ObjectInfo> CompleteMultipartAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default);

    Task AbortMultipartAsync(string key, string uploadId, CancellationToken ct = default);

    /// <summary>A time-limited URL that reads the object without the platform in the path; null where the store has none.</summary>
    Uri? PresignRead(string key, TimeSpan expiry, string? downloadFileName = null);
}

public static class ObjectStoreLimits
{
    /// <summary>S3's minimum for every part but the last.</summary>
    public const long MinPartSize = 5L * 1024 * 1024;

    /// <summary>The part size the stores use themselves when a stream's length is unknown or large.</summary>
    public const int DefaultPartSize = 8 * 1024 * 1024;

    public const int MaxParts = 10_000;

    /// <summary>S3's rules for completing a multipart upload, applied by every store alike.</summary>
    public static void ValidateCompletion(IReadOnlyList<UploadedPart> parts, IReadOnlyDictionary<int, UploadedPart> received)
    {
        if (parts.Count == 0)
        {
            throw new ArgumentException("A multipart upload needs at least one part.", nameof(parts));
        }

        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            if (i > 0 && part.PartNumber <= parts[i - 1].PartNumber)
            {
                throw new ArgumentException("Parts must be listed in ascending order of part number.", nameof(parts));
            }

            if (!received.TryGetValue(part.PartNumber, out var stored) || stored.ETag != part.ETag)
            {
                throw new ArgumentException($"Part {part.PartNumber} was not received (or was sent again since); upload it first.", nameof(parts));
            }

            if (i < parts.Count - 1 && stored.Length < ObjectStoreLimits.MinPartSize)
            {
                throw new ArgumentException($"Part {part.PartNumber} is {stored.Length} bytes; every part but the last needs {ObjectStoreLimits.MinPartSize}.", nameof(parts));
            }
        }
    }
}
