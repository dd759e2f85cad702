using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;

namespace Platform.Core.Datasets;

/// <summary>
/// Published versions and their aliases. Any version reference (files, downloads, deletes) may be a number,
/// "latest", "draft" or an alias; a version an alias points to is not deleted until the alias moves or goes.
/// </summary>
public partial class ArtifactService
{
    /// <summary>Implicit names that can never be set as aliases.</summary>
    public static readonly IReadOnlySet<string> ReservedAliases = new HashSet<string>(StringComparer.Ordinal) { "latest", "draft" };

    public const string AliasRule = "Use 1 to 50 lowercase letters, digits, '_' or '-', starting with a letter; 'latest' and 'draft' are implicit.";

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,49}$")]
    private static partial Regex AliasPattern();

    public static bool IsValidAlias(string? alias) => alias is not null && AliasPattern().IsMatch(alias) && !ReservedAliases.Contains(alias);

    /// <summary>The published versions, newest first, each with the aliases pointing to it.</summary>
    public async Task<Result<IReadOnlyList<VersionResponse>>> ListVersionsAsync(Guid userId, Guid artifactId, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, artifactId, DatasetAccess.Read, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var versions = await db.ArtifactVersions.AsNoTracking().Where(v => v.ArtifactId == artifactId && v.Number != null)
            .OrderByDescending(v => v.Number).ToListAsync(ct);
        var aliases = await db.ArtifactAliases.AsNoTracking().Where(a => a.ArtifactId == artifactId).ToListAsync(ct);
        return versions.Select(v => ToVersionResponse(v, aliases.Where(a => a.VersionId == v.Id).Select(a => a.Alias))).ToList();
    }

    /// <summary>Alias to version number, for the artifact's description.</summary>
    protected async Task<IReadOnlyDictionary<string, int>> AliasesOfAsync(Guid artifactId, CancellationToken ct) =>
        await (from a in db.ArtifactAliases
               join v in db.ArtifactVersions on a.VersionId equals v.Id
               where a.ArtifactId == artifactId
               orderby a.Alias
               select new { a.Alias, Number = v.Number!.Value })
            .ToDictionaryAsync(x => x.Alias, x => x.Number, StringComparer.Ordinal, ct);

    /// <summary>One version (draft or published) with its aliases.</summary>
    protected async Task<VersionResponse> DescribeVersionAsync(Guid versionId, CancellationToken ct)
    {
        var version = await db.ArtifactVersions.AsNoTracking().SingleAsync(v => v.Id == versionId, ct);
        var aliases = await db.ArtifactAliases.AsNoTracking().Where(a => a.VersionId == versionId).Select(a => a.Alias).ToListAsync(ct);
        return ToVersionResponse(version, aliases);
    }

    /// <summary>A published version given by number or alias (tracked, to change or delete); the draft and "latest" are refused.</summary>
    protected async Task<Result<ArtifactVersion>> PublishedVersionAsync(Guid artifactId, string? version, CancellationToken ct)
    {
        var reference = version?.Trim() ?? "";
        ArtifactVersion? row;
        if (int.TryParse(reference, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1)
        {
            row = await db.ArtifactVersions.FirstOrDefaultAsync(v => v.ArtifactId == artifactId && v.Number == number, ct);
        }
        else if (IsValidAlias(reference))
        {
            row = await (from a in db.ArtifactAliases
                         join v in db.ArtifactVersions on a.VersionId equals v.Id
                         where a.ArtifactId == artifactId && a.Alias == reference
                         select v).FirstOrDefaultAsync(ct);
        }
        else
        {
            return Error.Invalid("version", "Give the number of a published version (or an alias of one); the draft is emptied by deleting its files.");
        }

        return row is null ? Error.NotFound($"Version '{reference}'") : row;
    }

    /// <summary>The refusal to delete a version that aliases point to, naming them; null when none does.</summary>
    private async Task<Error?> AliasRefusalAsync(ArtifactVersion version, CancellationToken ct)
    {
        var aliases = await db.ArtifactAliases.AsNoTracking().Where(a => a.VersionId == version.Id).OrderBy(a => a.Alias)
            .Select(a => a.Alias).ToListAsync(ct);
        return aliases.Count == 0
            ? null
            : Error.Conflict($"Version {version.Number} is {string.Join(" and ", aliases.Select(a => $"'{a}'"))}; " +
                $"move or remove the alias{(aliases.Count > 1 ? "es" : "")} first.");
    }

    protected static List<string> NormalizeTags(IEnumerable<string>? tags) =>
        (tags ?? []).Select(t => t.Trim().ToLowerInvariant()).Where(t => t.Length > 0).Distinct().ToList();

    private static VersionResponse ToVersionResponse(ArtifactVersion v, IEnumerable<string> aliases)
    {
        var summary = ToSummary(v);
        return new VersionResponse(summary.Version, summary.FileCount, summary.TotalBytes, summary.CreatedAt, summary.PublishedAt,
            summary.ManifestSha256, aliases.Order(StringComparer.Ordinal).ToList());
    }
}
