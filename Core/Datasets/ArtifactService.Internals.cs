using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;

namespace Platform.Core.Datasets;

public partial class ArtifactService
{
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();

    /// <summary>
    /// The one gate. Members of the owning account: viewers read, members and masters write and manage. Others: a share
    /// to them or to one of their accounts gives read or write, never manage (delete, share); a dataset in the public
    /// catalog is readable by every signed-in user. Not visible at all: not found.
    /// </summary>
    private async Task<Result<Artifact>> FindAsync(Guid userId, Guid datasetId, DatasetAccess need, CancellationToken ct)
    {
        var artifact = await db.Artifacts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == datasetId && a.Kind == kind, ct);
        if (artifact is null)
        {
            return Error.NotFound(Noun);
        }

        var (role, shared) = await GrantsAsync(userId, artifact, ct);
        var level = Level(artifact, role, shared);
        if (level is null)
        {
            return Error.NotFound(Noun);
        }

        return level >= need ? artifact
            : need == DatasetAccess.Write && role is null ? Error.Forbidden($"You have read access to this {noun}; ask its owners for write access.")
            : role is not null ? Error.Forbidden($"This needs the member role in the account that owns the {noun}; you are {role.Value.ToApi()}.")
            : Error.Forbidden($"Only members of the account that owns the {noun} can do this.");
    }

    /// <summary>The caller's role in the owning account, or else the strongest share to them or one of their accounts.</summary>
    private async Task<(AccountRole? Role, ShareAccess? Shared)> GrantsAsync(Guid userId, Artifact artifact, CancellationToken ct)
    {
        var role = await db.Memberships.Where(m => m.UserId == userId && m.AccountId == artifact.AccountId)
            .Select(m => (AccountRole?)m.Role).FirstOrDefaultAsync(ct);
        if (role is not null)
        {
            return (role, null);
        }

        var mine = db.Memberships.Where(m => m.UserId == userId).Select(m => (Guid?)m.AccountId);
        var shared = await db.ArtifactShares
            .Where(s => s.ArtifactId == artifact.Id && (s.GranteeUserId == userId || mine.Contains(s.GranteeAccountId)))
            .OrderByDescending(s => s.Access).Select(s => (ShareAccess?)s.Access).FirstOrDefaultAsync(ct);
        return (null, shared);
    }

    /// <summary>
    /// The rule itself: owning-account viewers read, members and masters manage (which includes writing); a write share
    /// writes and a read share or the public catalog reads; none of these: not visible.
    /// </summary>
    private static DatasetAccess? Level(Artifact artifact, AccountRole? role, ShareAccess? shared) =>
        role >= AccountRole.Member ? DatasetAccess.Manage
        : role is not null ? DatasetAccess.Read
        : shared == ShareAccess.Write ? DatasetAccess.Write
        : shared is not null || artifact.IsPublic ? DatasetAccess.Read
        : null;

    /// <summary>Search on name and description (substring, any case) and tags (exact, lower-case).</summary>
    protected static IQueryable<Artifact> Searched(IQueryable<Artifact> query, string? search)
    {
        if (string.IsNullOrWhiteSpace(search))
        {
            return query;
        }

        var pattern = $"%{search.Trim()}%";
        var tag = search.Trim().ToLowerInvariant();
        return query.Where(a => EF.Functions.ILike(a.Name, pattern) || EF.Functions.ILike(a.Description, pattern) || a.Tags.Contains(tag));
    }

    /// <summary>One page of datasets from <paramref name="artifacts"/>, by name, with search on name, description and tags.</summary>
    private async Task<PagedResponse<DatasetResponse>> PageAsync(
        IQueryable<Artifact> artifacts, int? page, int? pageSize, string? search, CancellationToken ct)
    {
        var (p, size) = Paging.Normalize(page, pageSize);
        var query = Searched(artifacts.AsNoTracking().Where(a => a.Kind == kind), search);
        var total = await query.CountAsync(ct);
        var ids = await query.OrderBy(a => a.Name).ThenBy(a => a.Id).Skip((p - 1) * size).Take(size).Select(a => a.Id).ToListAsync(ct);
        var items = new List<DatasetResponse>(ids.Count);
        foreach (var id in ids)
        {
            items.Add((await DescribeAsync(id, ct))!);
        }

        return new PagedResponse<DatasetResponse>(items, total, p, size);
    }

    protected async Task<DatasetResponse?> DescribeAsync(Guid datasetId, CancellationToken ct)
    {
        var artifact = await db.Artifacts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == datasetId, ct);
        if (artifact is null)
        {
            return null;
        }

        var versions = await db.ArtifactVersions.AsNoTracking().Where(v => v.ArtifactId == datasetId).ToListAsync(ct);
        var draft = versions.Single(v => v.Number is null);
        return new DatasetResponse(artifact.Id, artifact.AccountId, artifact.Name, artifact.Description, artifact.License, artifact.Tags,
            artifact.CreatedAt, artifact.UpdatedAt, versions.Max(v => v.Number), await DraftSummaryAsync(draft, ct), artifact.IsPublic);
    }

    protected static FieldErrors Validate(CreateDatasetRequest request)
    {
        var errors = new FieldErrors();
        if (!NamePattern().IsMatch(request.Name?.Trim() ?? ""))
        {
            errors.Add("name", "Use 1 to 100 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit (it is used in name@version).");
        }

        if (request.Description?.Length > 4000)
        {
            errors.Add("description", "At most 4000 characters.");
        }

        if (request.License?.Length > 100)
        {
            errors.Add("license", "At most 100 characters.");
        }

        if (request.Tags is { } tags && (tags.Count > 20 || tags.Any(t => t.Length > 50)))
        {
            errors.Add("tags", "At most 20 tags of at most 50 characters.");
        }

        return errors;
    }

    /// <summary>
    /// Refuses <paramref name="adding"/> bytes over the quota, counting what is stored, what open uploads received and
    /// what they declared but have not sent yet.
    /// </summary>
    private async Task<Error?> QuotaErrorAsync(Guid accountId, long adding, CancellationToken ct)
    {
        // Counting usage reads every file row of the account; an account without a quota (the default) skips it.
        if (await db.Accounts.Where(a => a.Id == accountId).Select(a => a.StorageQuotaBytes).FirstOrDefaultAsync(ct) is null)
        {
            return null;
        }

        var usage = await UsageOfAsync(accountId, ct);
        if (usage.QuotaBytes is not { } quota)
        {
            return null;
        }

        var pending = await PendingUploadBytesAsync(accountId, ct);
        var left = Math.Max(0, quota - usage.UsedBytes - pending);
        if (adding <= left)
        {
            return null;
        }

        var held = pending > 0 ? $" ({pending} bytes are held for unfinished uploads: complete or cancel them to free them)" : "";
        var fields = new Dictionary<string, string[]>
        {
            ["quota"] = [$"{left} bytes left"],
            ["sizeBytes"] = [adding.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ["leftBytes"] = [left.ToString(System.Globalization.CultureInfo.InvariantCulture)],
            ["quotaBytes"] = [quota.ToString(System.Globalization.CultureInfo.InvariantCulture)],
        };
        return new Error(ErrorKind.Validation, $"Storage quota exceeded: this file is {adding} bytes and the account has {left} of {quota} bytes left{held}.", fields);
    }

    /// <summary>
    /// Adds or replaces the file in the draft; returns the object key of a replaced file, to free if unshared.
    /// Uploads hold the draft row FOR SHARE, so any number of them commit side by side (a folder of 100,000 files is not
    /// queued behind one lock), while a publish (FOR UPDATE) waits for them and they wait for it: a file lands in the
    /// draft before or after a publish, never in a version once it is published.
    /// </summary>
    private async Task<string?> PutIntoDraftAsync(Guid datasetId, ArtifactFile file, CancellationToken ct)
    {
        // Inside a caller's transaction (a completed upload) the caller commits; otherwise this is its own.
        await using var tx = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(ct) : null;
        file.VersionId = await ShareLockDraftAsync(datasetId, ct);
        string? replaced = null;
        for (var attempt = 0; ; attempt++)
        {
            var existing = await db.Database.SqlQuery<string>(
                    $"""SELECT "ObjectKey" AS "Value" FROM "ArtifactFiles" WHERE "VersionId" = {file.VersionId} AND "Path" = {file.Path} FOR UPDATE""")
                .ToListAsync(ct);
            if (existing.Count == 1)
            {
                replaced = existing[0];
                await db.Database.ExecuteSqlInterpolatedAsync(
                    $"""
                    UPDATE "ArtifactFiles" SET "Size" = {file.Size}, "Sha256" = {file.Sha256}, "ObjectKey" = {file.ObjectKey}, "AddedAt" = {file.AddedAt}
                    WHERE "VersionId" = {file.VersionId} AND "Path" = {file.Path}
                    """, ct);
                break;
            }

            // Another upload of the same path may insert first; then this one replaces it on the next pass.
            var inserted = await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO "ArtifactFiles" ("VersionId", "Path", "Size", "Sha256", "ObjectKey", "AddedAt")
                VALUES ({file.VersionId}, {file.Path}, {file.Size}, {file.Sha256}, {file.ObjectKey}, {file.AddedAt})
                ON CONFLICT ("VersionId", "Path") DO NOTHING
                """, ct);
            if (inserted == 1 || attempt == 3)
            {
                break;
            }
        }

        if (tx is not null)
        {
            await tx.CommitAsync(ct);
        }

        await TouchAsync(datasetId, file.AddedAt, ct);
        return replaced;
    }

    /// <summary>
    /// The draft's id, its row held FOR SHARE until the transaction ends. A publish that got there first turns the
    /// draft into a version and opens a new one; the statement then finds no draft row and looks again.
    /// </summary>
    private async Task<Guid> ShareLockDraftAsync(Guid datasetId, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var ids = await db.Database.SqlQuery<Guid>(
                    $"""SELECT "Id" AS "Value" FROM "ArtifactVersions" WHERE "ArtifactId" = {datasetId} AND "Number" IS NULL FOR SHARE""")
                .ToListAsync(ct);
            if (ids.Count == 1 || attempt == 5)
            {
                return ids.Count == 1 ? ids[0] : throw new InvalidOperationException($"Artifact {datasetId} has no draft.");
            }
        }
    }

    /// <summary>
    /// Moves UpdatedAt forward, at most once a second: during a folder upload most calls change nothing and so take no
    /// lock on the artifact row, which would otherwise queue every upload behind the one before.
    /// </summary>
    private Task TouchAsync(Guid artifactId, DateTimeOffset at, CancellationToken ct)
    {
        var before = at.AddSeconds(-1);
        return db.Artifacts.Where(a => a.Id == artifactId && a.UpdatedAt < before).ExecuteUpdateAsync(s => s.SetProperty(a => a.UpdatedAt, at), ct);
    }

    /// <summary>The draft's file count and bytes, counted from its rows (uploads do not keep counters on the draft row).</summary>
    private async Task<VersionSummary> DraftSummaryAsync(ArtifactVersion draft, CancellationToken ct)
    {
        var totals = await db.ArtifactFiles.Where(f => f.VersionId == draft.Id)
            .GroupBy(_ => 1).Select(g => new { Count = g.Count(), Bytes = g.Sum(f => f.Size) }).FirstOrDefaultAsync(ct);
        return ToSummary(draft) with { FileCount = totals?.Count ?? 0, TotalBytes = totals?.Bytes ?? 0 };
    }

    /// <summary>The draft row, locked for the transaction so concurrent uploads and a publish serialise on it.</summary>
    private async Task<ArtifactVersion> LockDraftAsync(Guid datasetId, CancellationToken ct) =>
        await db.ArtifactVersions.FromSqlInterpolated(
                $"SELECT * FROM \"ArtifactVersions\" WHERE \"ArtifactId\" = {datasetId} AND \"Number\" IS NULL FOR UPDATE")
            .SingleAsync(ct);

    /// <summary>"draft", "latest", a version number or an alias ("production"), to the version's id.</summary>
    protected async Task<Result<Guid>> ResolveVersionAsync(Guid userId, Guid datasetId, string version, CancellationToken ct)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Read, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var versions = db.ArtifactVersions.AsNoTracking().Where(v => v.ArtifactId == datasetId);
        Guid? id = version switch
        {
            "draft" => await versions.Where(v => v.Number == null).Select(v => (Guid?)v.Id).FirstOrDefaultAsync(ct),
            "latest" => await versions.Where(v => v.Number != null).OrderByDescending(v => v.Number).Select(v => (Guid?)v.Id).FirstOrDefaultAsync(ct),
            _ when int.TryParse(version, out var n) => await versions.Where(v => v.Number == n).Select(v => (Guid?)v.Id).FirstOrDefaultAsync(ct),
            _ => await db.ArtifactAliases.Where(a => a.ArtifactId == datasetId && a.Alias == version).Select(a => (Guid?)a.VersionId).FirstOrDefaultAsync(ct),
        };
        return id is { } found2 ? found2 : Error.NotFound($"Version '{version}'");
    }

    private IQueryable<ArtifactFile> FilesOf(Guid datasetId) =>
        from f in db.ArtifactFiles
        join v in db.ArtifactVersions on f.VersionId equals v.Id
        where v.ArtifactId == datasetId
        select f;

    /// <summary>
    /// Removes the objects no file row refers to any more. Runs after the rows are gone; a crash in between leaves
    /// objects without rows, never rows without objects.
    /// </summary>
    private async Task FreeUnreferencedAsync(IReadOnlyCollection<string> keys, CancellationToken ct)
    {
        if (keys.Count == 0)
        {
            return;
        }

        var distinct = keys.Distinct().ToList();
        var stillUsed = await db.ArtifactFiles.Where(f => distinct.Contains(f.ObjectKey)).Select(f => f.ObjectKey).Distinct().ToListAsync(ct);
        var orphans = distinct.Except(stillUsed).ToList();
        if (orphans.Count > 0)
        {
            await store.DeleteManyAsync(orphans, ct);
        }
    }

    private static DatasetFileResponse ToResponse(ArtifactFile f) => new(f.Path, f.Size, f.Sha256, f.AddedAt);

    /// <summary>A version as stored; for the draft, whose counters are not kept, use <see cref="DraftSummaryAsync"/>.</summary>
    protected static VersionSummary ToSummary(ArtifactVersion v) =>
        new(v.Number?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "draft", v.FileCount, v.TotalBytes, v.CreatedAt, v.PublishedAt, v.ManifestSha256);
}

/// <summary>Passes a stream through while hashing what was read, so a file is hashed in the same pass that stores it.</summary>
internal sealed class HashingReadStream(Stream inner) : Storage.ReadOnlyStream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public string HashHex() => Convert.ToHexStringLower(_hash.GetHashAndReset());

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        _hash.AppendData(buffer[..read]);
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        _hash.AppendData(buffer.Span[..read]);
        return read;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}
