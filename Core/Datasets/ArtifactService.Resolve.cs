using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;

namespace Platform.Core.Datasets;

/// <summary>A published version a user can read, found by <c>name@version</c>.</summary>
public sealed record ReadableVersion(Guid ArtifactId, string Name, Guid VersionId, int Number, int FileCount, long TotalBytes);

public partial class ArtifactService
{
    /// <summary>
    /// The published version <c>name@version</c> (a number, "latest" or an alias) names among the artifacts the user can
    /// read: their accounts', shared with them, public. One in <paramref name="preferredAccountId"/> wins, then one in
    /// the user's own accounts; where that still leaves several, the reference is ambiguous. The error messages are
    /// written to stand beside the field that holds the reference.
    /// </summary>
    public async Task<Result<ReadableVersion>> FindReadableVersionAsync(
        Guid userId, string name, string version, Guid? preferredAccountId, CancellationToken ct = default)
    {
        var listed = ListedFor(userId).Select(a => a.Id);
        var mine = db.Memberships.Where(m => m.UserId == userId).Select(m => m.AccountId);
        var candidates = await db.Artifacts.AsNoTracking()
            .Where(a => a.Kind == kind && a.Name == name && (listed.Contains(a.Id) || a.IsPublic))
            .Select(a => new { a.Id, a.AccountId, Mine = mine.Contains(a.AccountId) })
            .ToListAsync(ct);
        var chosen = candidates.Where(c => c.AccountId == preferredAccountId).ToList() is { Count: > 0 } preferred ? preferred
            : candidates.Where(c => c.Mine).ToList() is { Count: > 0 } own ? own
            : candidates;
        if (chosen.Count == 0)
        {
            return new Error(ErrorKind.NotFound, $"No {noun} '{name}' you can read.");
        }

        if (chosen.Count > 1)
        {
            return Error.Conflict($"Several {noun}s named '{name}' are readable to you (accounts {string.Join(", ", chosen.Select(c => c.AccountId))}).");
        }

        var missing = new Error(ErrorKind.NotFound, $"{Noun} '{name}' has no version {version}.");
        if (version == "draft")
        {
            return Error.Invalid("version", $"Use a published version of '{name}', not its draft.");
        }

        var resolved = await ResolveVersionAsync(userId, chosen[0].Id, version, ct);
        if (!resolved.IsSuccess)
        {
            return resolved.Error!.Kind == ErrorKind.NotFound ? missing : resolved.Error!;
        }

        var row = await db.ArtifactVersions.AsNoTracking().SingleAsync(v => v.Id == resolved.Value, ct);
        return row.Number is { } number
            ? new ReadableVersion(chosen[0].Id, name, row.Id, number, row.FileCount, row.TotalBytes)
            : missing;
    }

    /// <summary>The files of a published version in path order, with the object keys that hold their bytes (for Workers).</summary>
    public IAsyncEnumerable<ArtifactFile> FilesOfVersion(Guid versionId) =>
        db.ArtifactFiles.AsNoTracking().Where(f => f.VersionId == versionId).OrderBy(f => f.Path).AsAsyncEnumerable();
}
