namespace Platform.Core.Datasets;

/// <summary>
/// What a file looks like, from its first bytes only: <c>table</c> (<see cref="Columns"/> and <see cref="Rows"/>),
/// <c>text</c> (<see cref="Text"/>), <c>image</c> (a verified raster type in <see cref="MediaType"/>; the API adds
/// <see cref="Url"/>, the inline download) or <c>none</c> with a <see cref="Reason"/>. <see cref="Truncated"/> says more
/// of the file exists than is shown. Never HTML or SVG: those are <c>none</c>.
/// </summary>
public sealed record FilePreview(
    string Kind,
    string Path,
    long Size,
    IReadOnlyList<string>? Columns = null,
    IReadOnlyList<IReadOnlyList<string>>? Rows = null,
    string? Text = null,
    string? MediaType = null,
    string? Url = null,
    bool Truncated = false,
    string? Reason = null);

/// <summary>A version to stream as a zip: the file name to offer and what goes in.</summary>
public sealed record ArchivePlan(Guid VersionId, string FileName, string? Prefix);

/// <summary>A file only one side of a diff has.</summary>
public sealed record DiffFile(string Path, long Size, string Sha256);

/// <summary>One file that differs between two versions: present in both with other bytes.</summary>
public sealed record ChangedFile(string Path, long SizeBefore, long SizeAfter, string Sha256Before, string Sha256After);

/// <summary>How many paths fall in each class over the whole diff, not just this page.</summary>
public sealed record DiffCounts(int Added, int Removed, int Changed, int Unchanged);

/// <summary>
/// A page of the differences from version <c>a</c> to version <c>b</c> in path order (added, removed and changed
/// together); pass <see cref="Next"/> as <c>after</c> for the next page (null at the end).
/// </summary>
public sealed record VersionDiff(
    string From, string To, IReadOnlyList<DiffFile> Added, IReadOnlyList<DiffFile> Removed,
    IReadOnlyList<ChangedFile> Changed, DiffCounts Counts, string? Next);
