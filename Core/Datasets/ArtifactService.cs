using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Core.Datasets;

/// <summary>
/// Datasets and models (one machinery, <see cref="ArtifactKind"/> tells them apart) of the caller's accounts: a draft that takes uploads, published versions that never change, and storage
/// that is freed as soon as no version refers to an object. Access follows account roles (viewers read, members
/// write); a dataset outside the caller's accounts is not found.
/// </summary>
public partial class ArtifactService(ArtifactKind kind, PlatformDbContext db, AccountService accounts, IObjectStore store, TimeProvider clock)
{
    /// <summary>"dataset" or "model", for messages.</summary>
    private readonly string noun = kind == ArtifactKind.Model ? "model" : "dataset";

    /// <summary>"Dataset" or "Model", for not-found messages.</summary>
    private string Noun => kind == ArtifactKind.Model ? "Model" : "Dataset";

    public ArtifactKind Kind => kind;

    /// <summary>For the kind-specific services built on this one (models add metadata and aliases).</summary>
    protected PlatformDbContext Db => db;

    protected TimeProvider Clock => clock;

    /// <summary>
    /// Checks the caller may do <paramref name="need"/> with an artifact of this kind; not visible is not found.
    /// </summary>
    protected Task<Result<Artifact>> RequireAsync(Guid userId, Guid artifactId, DatasetAccess need, CancellationToken ct) =>
        FindAsync(userId, artifactId, need, ct);

    public const int MaxFilePageSize = 1000;

    public async Task<Result<DatasetResponse>> CreateAsync(Guid userId, CreateDatasetRequest request, CancellationToken ct = default)
    {
        var accountId = request.AccountId ?? (await accounts.GetCurrentAsync(userId, ct))?.Id;
        if (accountId is null)
        {
            return Error.Invalid("accountId", $"Choose the account the {noun} belongs to.");
        }

        var access = await accounts.RequireRoleAsync(userId, accountId.Value, AccountRole.Member, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        var errors = Validate(request);
        if (errors.Any)
        {
            return errors.ToError();
        }

        var name = request.Name!.Trim();
        if (await db.Artifacts.AnyAsync(a => a.AccountId == accountId && a.Kind == kind && a.Name == name, ct))
        {
            return Error.Invalid("name", $"The account already has a {noun} named '{name}'.");
        }

        var now = clock.GetUtcNow();
        var artifact = new Artifact
        {
            Id = Guid.CreateVersion7(),
            AccountId = accountId.Value,
            Kind = kind,
            Name = name,
            Description = request.Description?.Trim() ?? "",
            License = string.IsNullOrWhiteSpace(request.License) ? null : request.License.Trim(),
            Tags = NormalizeTags(request.Tags),
            CreatedByUserId = userId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Artifacts.Add(artifact);
        db.ArtifactVersions.Add(new ArtifactVersion { Id = Guid.CreateVersion7(), ArtifactId = artifact.Id, CreatedAt = now });
        await db.SaveChangesAsync(ct);
        return await GetAsync(userId, artifact.Id, ct);
    }

    /// <summary>Datasets of the caller's accounts and those shared with the caller or their accounts.</summary>
    public Task<PagedResponse<DatasetResponse>> ListAsync(Guid userId, int? page, int? pageSize, string? search, CancellationToken ct = default) =>
        PageAsync(ListedFor(userId), page, pageSize, search, ct);

    /// <summary>Artifacts (of any kind) the user's lists show: their accounts' and those shared with them or their accounts.</summary>
    protected IQueryable<Artifact> ListedFor(Guid userId)
    {
        var mine = db.Memberships.Where(m => m.UserId == userId).Select(m => m.AccountId);
        var shared = db.ArtifactShares.Where(s => s.GranteeUserId == userId || mine.Contains(s.GranteeAccountId!.Value)).Select(s => s.ArtifactId);
        return db.Artifacts.Where(a => mine.Contains(a.AccountId) || shared.Contains(a.Id));
    }

    public async Task<Result<DatasetResponse>> GetAsync(Guid userId, Guid datasetId, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Read, ct);
        return found.IsSuccess ? (await DescribeAsync(datasetId, ct))! : found.Error!;
    }

    /// <summary>Deletes the dataset with all its versions and frees the storage no other dataset shares.</summary>
    public async Task<Result> DeleteAsync(Guid userId, Guid datasetId, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Manage, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var keys = await FilesOf(datasetId).Select(f => f.ObjectKey).Distinct().ToListAsync(ct);
        await AbortUploadsOfAsync(datasetId, ct);
        await db.Artifacts.Where(a => a.Id == datasetId).ExecuteDeleteAsync(ct);
        await FreeUnreferencedAsync(keys, ct);
        return Result.Success;
    }

    /// <summary>
    /// Streams one file into the draft, hashing it on the way; replaces a file of the same path. When the size is known
    /// the quota is checked before a byte is stored; otherwise once the bytes are in, and they are removed if over.
    /// </summary>
    public async Task<Result<DatasetFileResponse>> UploadAsync(
        Guid userId, Guid datasetId, string? path, Stream content, long? length, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        if (!ArtifactPath.TryNormalize(path, out var normalized, out var problem))
        {
            return Error.Invalid("path", problem);
        }

        var artifact = found.Value!;
        if (length is { } declared && await QuotaErrorAsync(artifact.AccountId, declared, ct) is { } tooBig)
        {
            return tooBig;
        }

        var key = $"accounts/{artifact.AccountId:N}/objects/{Guid.CreateVersion7():N}";
        using var hashing = new HashingReadStream(content);
        var stored = await store.PutAsync(key, hashing, length, ct);
        if (length is null && await QuotaErrorAsync(artifact.AccountId, stored.Length, ct) is { } over)
        {
            await store.DeleteAsync(key, CancellationToken.None);
            return over;
        }

        var file = new ArtifactFile { Path = normalized, Size = stored.Length, Sha256 = hashing.HashHex(), ObjectKey = key, AddedAt = clock.GetUtcNow() };
        string? replacedKey;
        try
        {
            replacedKey = await PutIntoDraftAsync(datasetId, file, ct);
        }
        catch
        {
            await store.DeleteAsync(key, CancellationToken.None);
            throw;
        }

        if (replacedKey is not null)
        {
            await FreeUnreferencedAsync([replacedKey], ct);
        }

        return ToResponse(file);
    }

    public async Task<Result<FilePage>> ListFilesAsync(
        Guid userId, Guid datasetId, string version, string? prefix, string? after, int? limit, CancellationToken ct = default)
    {
        var resolved = await ResolveVersionAsync(userId, datasetId, version, ct);
        if (!resolved.IsSuccess)
        {
            return resolved.Error!;
        }

        var take = Math.Clamp(limit ?? 100, 1, MaxFilePageSize);
        var query = db.ArtifactFiles.AsNoTracking().Where(f => f.VersionId == resolved.Value);
        if (!string.IsNullOrEmpty(prefix))
        {
            query = query.Where(f => f.Path.StartsWith(prefix));
        }

        if (!string.IsNullOrEmpty(after))
        {
            query = query.Where(f => string.Compare(f.Path, after) > 0);
        }

        var rows = await query.OrderBy(f => f.Path).Take(take + 1).ToListAsync(ct);
        var items = rows.Take(take).Select(ToResponse).ToList();
        return new FilePage(items, rows.Count > take ? items[^1].Path : null);
    }

    public async Task<Result<DatasetFileDownload>> OpenFileAsync(
        Guid userId, Guid datasetId, string version, string? path, ByteRange? range, CancellationToken ct = default)
    {
        var resolved = await ResolveVersionAsync(userId, datasetId, version, ct);
        if (!resolved.IsSuccess)
        {
            return resolved.Error!;
        }

        var normalized = (path ?? "").Normalize(NormalizationForm.FormC);
        var file = await db.ArtifactFiles.AsNoTracking().FirstOrDefaultAsync(f => f.VersionId == resolved.Value && f.Path == normalized, ct);
        if (file is null)
        {
            return Error.NotFound($"File '{normalized}'");
        }

        if (range is not null && (range.From >= file.Size && file.Size > 0 || range.To < range.From))
        {
            return Error.Invalid("range", $"The range does not fit the file's {file.Size} bytes.");
        }

        var reader = await store.OpenReadAsync(file.ObjectKey, range, ct);
        return reader is null
            ? Error.Conflict($"The bytes of '{file.Path}' are missing from storage; ask an admin to check the object store.")
            : new DatasetFileDownload(ToResponse(file), reader);
    }

    /// <summary>
    /// Freezes the draft as the next version (with its manifest, file count and bytes) and opens a new draft holding the
    /// same files. It holds the draft row FOR UPDATE, so uploads in flight finish before and later ones go to the new draft.
    /// </summary>
    public async Task<Result<VersionSummary>> PublishAsync(Guid userId, Guid datasetId, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var draft = await LockDraftAsync(datasetId, ct);
        var manifest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var (count, bytes) = (0, 0L);
        await foreach (var f in db.ArtifactFiles.AsNoTracking().Where(f => f.VersionId == draft.Id).OrderBy(f => f.Path)
                           .Select(f => new { f.Path, f.Size, f.Sha256 }).AsAsyncEnumerable().WithCancellation(ct))
        {
            manifest.AppendData(Encoding.UTF8.GetBytes($"{f.Path}\t{f.Size}\t{f.Sha256}\n"));
            count++;
            bytes += f.Size;
        }

        if (count == 0)
        {
            return Error.Conflict("The draft has no files: upload some before publishing.");
        }

        draft.FileCount = count;
        draft.TotalBytes = bytes;
        var now = clock.GetUtcNow();
        draft.Number = (await db.ArtifactVersions.Where(v => v.ArtifactId == datasetId).MaxAsync(v => v.Number, ct) ?? 0) + 1;
        draft.PublishedAt = now;
        draft.PublishedByUserId = userId;
        draft.ManifestSha256 = Convert.ToHexStringLower(manifest.GetHashAndReset());
        var next = new ArtifactVersion
        {
            Id = Guid.CreateVersion7(), ArtifactId = datasetId, CreatedAt = now, FileCount = draft.FileCount, TotalBytes = draft.TotalBytes,
        };
        await db.SaveChangesAsync(ct);
        db.ArtifactVersions.Add(next);
        await db.SaveChangesAsync(ct);
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO "ArtifactFiles" ("VersionId", "Path", "Size", "Sha256", "ObjectKey", "AddedAt")
            SELECT {next.Id}, "Path", "Size", "Sha256", "ObjectKey", "AddedAt" FROM "ArtifactFiles" WHERE "VersionId" = {draft.Id}
            """, ct);
        await db.Artifacts.Where(a => a.Id == datasetId).ExecuteUpdateAsync(s => s.SetProperty(a => a.UpdatedAt, now), ct);
        await tx.CommitAsync(ct);
        return ToSummary(draft);
    }

    /// <summary>Deletes a published version; objects that no other version refers to are removed and their bytes freed.</summary>
    public async Task<Result> DeleteVersionAsync(Guid userId, Guid datasetId, string version, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, datasetId, DatasetAccess.Manage, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var row = await PublishedVersionAsync(datasetId, version, ct);
        if (!row.IsSuccess)
        {
            return row.Error!;
        }

        if (await AliasRefusalAsync(row.Value!, ct) is { } aliased)
        {
            return aliased;
        }

        var keys = await db.ArtifactFiles.Where(f => f.VersionId == row.Value!.Id).Select(f => f.ObjectKey).ToListAsync(ct);
        db.ArtifactVersions.Remove(row.Value!);
        try
        {
            await db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.ForeignKeyViolation })
        {
            // An alias was set on this version between the check and the delete: the foreign key refused it.
            db.ChangeTracker.Clear();
            return await AliasRefusalAsync(row.Value!, ct) ?? Error.Conflict($"Version {row.Value!.Number} changed meanwhile; try again.");
        }

        await FreeUnreferencedAsync(keys, ct);
        return Result.Success;
    }

    public async Task<Result<StorageUsage>> UsageAsync(Guid userId, Guid accountId, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(userId, accountId, AccountRole.Viewer, ct);
        return access.IsSuccess ? await UsageOfAsync(accountId, ct) : access.Error!;
    }

    /// <summary>Bytes an account keeps: each stored object once, however many versions refer to it.</summary>
    public async Task<StorageUsage> UsageOfAsync(Guid accountId, CancellationToken ct = default)
    {
        var used = await StoredObjects.Of(db).Where(o => o.AccountId == accountId).SumAsync(o => (long?)o.Size, ct) ?? 0;
        var quota = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.StorageQuotaBytes).FirstOrDefaultAsync(ct);
        return new StorageUsage(accountId, used, quota);
    }
}

/// <summary>Datasets: the artifact machinery for <see cref="ArtifactKind.Dataset"/>.</summary>
public sealed class DatasetService(PlatformDbContext db, AccountService accounts, IObjectStore store, TimeProvider clock)
    : ArtifactService(ArtifactKind.Dataset, db, accounts, store, clock);
