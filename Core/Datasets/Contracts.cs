namespace Platform.Core.Datasets;

public sealed record CreateDatasetRequest(Guid? AccountId, string? Name, string? Description, string? License, IReadOnlyList<string>? Tags);

public sealed record VersionSummary(string Version, int FileCount, long TotalBytes, DateTimeOffset CreatedAt, DateTimeOffset? PublishedAt, string? ManifestSha256);

public sealed record DatasetResponse(
    Guid Id, Guid AccountId, string Name, string Description, string? License, IReadOnlyList<string> Tags,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int? LatestVersion, VersionSummary Draft, bool IsPublic);

public sealed record DatasetFileResponse(string Path, long Size, string Sha256, DateTimeOffset AddedAt);

/// <summary>A page of files in path order; pass <see cref="Next"/> as <c>after</c> for the next page (null at the end).</summary>
public sealed record FilePage(IReadOnlyList<DatasetFileResponse> Items, string? Next);

public sealed record StorageUsage(Guid AccountId, long UsedBytes, long? QuotaBytes)
{
    public long? LeftBytes => QuotaBytes is { } quota ? Math.Max(0, quota - UsedBytes) : null;
}

/// <summary>An opened file of a version, to stream to the caller.</summary>
public sealed record DatasetFileDownload(DatasetFileResponse File, Storage.ObjectReader Reader);

/// <summary>What a dataset route needs: reading, writing the draft (upload, publish), or managing (delete, shares).</summary>
public enum DatasetAccess
{
    Read,
    Write,
    Manage,
}

/// <summary>Share with a user (by e-mail) or with every member of an account; access 'read' or 'write'.</summary>
public sealed record CreateShareRequest(string? Email, Guid? AccountId, string? Access);

public sealed record ShareResponse(Guid Id, string GranteeType, Guid GranteeId, string GranteeName, string Access, DateTimeOffset CreatedAt);

/// <summary>Start a resumable upload of one file of <see cref="Size"/> bytes; <see cref="Sha256"/> (hex) is checked on completion.</summary>
public sealed record StartUploadRequest(string? Path, long? Size, string? Sha256);

/// <summary>
/// An open upload: send parts 1 to <see cref="PartCount"/> of <see cref="PartSize"/> bytes (the last one the rest) that
/// are not in <see cref="Received"/>, then complete it. Expires at <see cref="ExpiresAt"/> unless a part arrives first.
/// </summary>
public sealed record UploadResponse(
    Guid UploadId, string Path, long Size, string? Sha256, int PartSize, int PartCount,
    IReadOnlyList<int> Received, long ReceivedBytes, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

/// <summary>A part stored; the upload now expires at <see cref="ExpiresAt"/>.</summary>
public sealed record UploadPartResponse(int Number, long Size, DateTimeOffset ExpiresAt);
