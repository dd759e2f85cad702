namespace Platform.Core.AccessKeys;

public enum AccessKeyScope
{
    /// <summary>GET and HEAD only.</summary>
    Read = 0,
    Full = 1,
}

/// <summary>
/// A bearer secret for the SDK and CLI. The full key (<c>plat_{prefix}_{secret}</c>) is shown once;
/// only the prefix (to find the row) and SHA-256 of the secret (high-entropy, so no slow hash is needed) are kept.
/// </summary>
public sealed class AccessKey
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public string Name { get; set; } = "";
    public string Prefix { get; set; } = "";
    public byte[] SecretHash { get; set; } = [];
    public AccessKeyScope Scope { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ExpiresAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }

    public bool IsActiveAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}
