namespace Platform.Core.Datasets;

/// <summary>A version ("draft" or its number) with the aliases that point to it ("production").</summary>
public sealed record VersionResponse(
    string Version, int FileCount, long TotalBytes, DateTimeOffset CreatedAt, DateTimeOffset? PublishedAt, string? ManifestSha256,
    IReadOnlyList<string> Aliases);
