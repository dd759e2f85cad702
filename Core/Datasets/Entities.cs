namespace Platform.Core.Datasets;

/// <summary>Datasets and models share one machinery: an artifact owned by an account, edited as a draft, published as versions.</summary>
public enum ArtifactKind
{
    Dataset,
    Model,
}

public sealed class Artifact
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public ArtifactKind Kind { get; set; }
    public string Name { get; set; } = "";
    public string Description { get; set; } = "";
    public string? License { get; set; }
    public List<string> Tags { get; set; } = [];

    /// <summary>In the public catalog: readable by every signed-in user (and listed without sign-in where an admin allows).</summary>
    public bool IsPublic { get; set; }

    /// <summary>Models only: what trained it ("pytorch") and how it is stored ("safetensors", "onnx").</summary>
    public string? Framework { get; set; }
    public string? Format { get; set; }

    /// <summary>Models only: JSON objects kept as jsonb text, validated by ModelService (objects, bounded size).</summary>
    public string? InputSchema { get; set; }
    public string? OutputSchema { get; set; }
    public string? Metrics { get; set; }

    /// <summary>Models only: the training job that produced it, once jobs exist (no foreign key yet).</summary>
    public Guid? SourceJobId { get; set; }
    public Guid CreatedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// The draft (<see cref="Number"/> null, one per artifact) or a published version (immutable: the service has no path
/// that changes a published version's files).
/// </summary>
public sealed class ArtifactVersion
{
    public Guid Id { get; set; }
    public Guid ArtifactId { get; set; }
    public int? Number { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? PublishedAt { get; set; }
    public Guid? PublishedByUserId { get; set; }
    public int FileCount { get; set; }
    public long TotalBytes { get; set; }

    /// <summary>SHA-256 of the manifest: one line per file, "path\tsize\tsha256", in ordinal path order.</summary>
    public string? ManifestSha256 { get; set; }
}

/// <summary>A file of a version. Versions share objects: a draft starts with the latest version's rows, not copies of its bytes.</summary>
public sealed class ArtifactFile
{
    public Guid VersionId { get; set; }
    public string Path { get; set; } = "";
    public long Size { get; set; }
    public string Sha256 { get; set; } = "";
    public string ObjectKey { get; set; } = "";
    public DateTimeOffset AddedAt { get; set; }
}

public enum ShareAccess
{
    Read = 0,
    Write = 1,
}

/// <summary>
/// Access to one artifact for a user or for every member of an account, outside the owning account. Deleting the row
/// revokes it: access is checked against these rows on every request, so a revoked share stops working at once.
/// </summary>
public sealed class ArtifactShare
{
    public Guid Id { get; set; }
    public Guid ArtifactId { get; set; }
    public Guid? GranteeUserId { get; set; }
    public Guid? GranteeAccountId { get; set; }
    public ShareAccess Access { get; set; }
    public Guid CreatedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}
