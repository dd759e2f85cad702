namespace Platform.Core.Datasets;

/// <summary>
/// A resumable upload of one file into an artifact's draft: a multipart upload in the object store, sent in parts of
/// <see cref="PartSize"/> bytes (the last one shorter), completed into the draft or aborted. Open uploads expire
/// <see cref="UploadLimits.Expiry"/> after their last part; the Workers' sweep aborts them and deletes the row.
/// </summary>
public sealed class Upload
{
    public Guid Id { get; set; }
    public Guid ArtifactId { get; set; }

    /// <summary>The file's path in the draft, validated by <see cref="ArtifactPath"/>.</summary>
    public string Path { get; set; } = "";

    /// <summary>Where the completed object will live (a fresh key, never shared until the upload completes).</summary>
    public string ObjectKey { get; set; } = "";

    /// <summary>The store's multipart upload id; empty for a zero-byte file, which needs no parts.</summary>
    public string StoreUploadId { get; set; } = "";

    /// <summary>Declared size: counted against the quota from the start, verified on completion.</summary>
    public long Size { get; set; }
    public int PartSize { get; set; }

    /// <summary>The SHA-256 the client declared (lowercase hex), compared on completion; null when none was given.</summary>
    public string? Sha256 { get; set; }
    public Guid CreatedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }

    public int PartCount => Size == 0 ? 0 : (int)((Size + PartSize - 1) / PartSize);

    /// <summary>The exact length part <paramref name="number"/> (1-based) must have.</summary>
    public long LengthOfPart(int number) => number < PartCount ? PartSize : Size - ((long)PartCount - 1) * PartSize;
}

/// <summary>A part the store has received, with the ETag completion needs. Sending a part again replaces its row.</summary>
public sealed class UploadPart
{
    public Guid UploadId { get; set; }
    public int Number { get; set; }
    public long Size { get; set; }
    public string ETag { get; set; } = "";
}

/// <summary>The limits of resumable uploads.</summary>
public static class UploadLimits
{
    /// <summary>The usual part size: large enough for few requests, small enough to resend cheaply after a drop.</summary>
    public const int DefaultPartSize = 16 * 1024 * 1024;

    /// <summary>The largest part: the S3 store holds one part in memory while sending it.</summary>
    public const int MaxPartSize = 64 * 1024 * 1024;

    /// <summary>The largest file: <see cref="Storage.ObjectStoreLimits.MaxParts"/> parts of <see cref="MaxPartSize"/> (625 GiB).</summary>
    public const long MaxFileBytes = (long)Storage.ObjectStoreLimits.MaxParts * MaxPartSize;

    /// <summary>An open upload expires this long after it started or last received a part.</summary>
    public static readonly TimeSpan Expiry = TimeSpan.FromHours(24);

    /// <summary>
    /// <see cref="DefaultPartSize"/>, raised (in whole MiB) when the file would otherwise need more than
    /// <see cref="Storage.ObjectStoreLimits.MaxParts"/> parts. Never below the store's minimum part size.
    /// </summary>
    public static int PartSizeFor(long size)
    {
        const long mib = 1024 * 1024;
        var needed = (size + Storage.ObjectStoreLimits.MaxParts - 1) / Storage.ObjectStoreLimits.MaxParts;
        var rounded = (needed + mib - 1) / mib * mib;
        return (int)Math.Max(Math.Max(DefaultPartSize, rounded), Storage.ObjectStoreLimits.MinPartSize);
    }
}
