using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Storage;

namespace Platform.Core.Datasets;

/// <summary>Browsing a version: the whole of it (or a folder) as a streamed zip, a preview of one file, the diff of two versions.</summary>
public partial class ArtifactService
{
    /// <summary>File rows fetched at a time while a zip is written: the archive never holds a version's listing.</summary>
    private const int ArchiveBatchSize = 500;

    private const int CopyBufferSize = 128 * 1024;

    /// <summary>
    /// Checks the caller may read the version and names the zip (<c>name-vN.zip</c>, <c>name-draft.zip</c>). Nothing is
    /// written yet: errors come back here, before a response starts.
    /// </summary>
    public async Task<Result<ArchivePlan>> PlanArchiveAsync(Guid userId, Guid datasetId, string version, string? prefix, CancellationToken ct = default)
    {
        var resolved = await ResolveVersionAsync(userId, datasetId, version, ct);
        if (!resolved.IsSuccess)
        {
            return resolved.Error!;
        }

        var name = await db.Artifacts.AsNoTracking().Where(a => a.Id == datasetId).Select(a => a.Name).FirstAsync(ct);
        var number = await db.ArtifactVersions.AsNoTracking().Where(v => v.Id == resolved.Value).Select(v => v.Number).FirstAsync(ct);
        var label = number is { } n ? $"v{n}" : "draft";
        return new ArchivePlan(resolved.Value, $"{name}-{label}.zip", string.IsNullOrEmpty(prefix) ? null : prefix.Normalize(NormalizationForm.FormC));
    }

    /// <summary>
    /// Writes the planned version as a zip to <paramref name="output"/> (which need not seek), files in path order,
    /// each read from the store when its turn comes. A missing object or one shorter than its row says throws
    /// <see cref="IOException"/> mid-stream: the caller must then abort the response, so nobody gets a zip that looks whole.
    /// </summary>
    public Task WriteArchiveAsync(ArchivePlan plan, Stream output, CancellationToken ct = default) =>
        ZipStreaming.WriteAsync(output, ArchiveSourcesAsync(plan, ct), ct);

    private async IAsyncEnumerable<ZipSource> ArchiveSourcesAsync(ArchivePlan plan, [EnumeratorCancellation] CancellationToken ct)
    {
        string? after = null;
        while (true)
        {
            var query = db.ArtifactFiles.AsNoTracking().Where(f => f.VersionId == plan.VersionId);
            if (plan.Prefix is { } prefix)
            {
                query = query.Where(f => f.Path.StartsWith(prefix));
            }

            if (after is not null)
            {
                query = query.Where(f => string.Compare(f.Path, after) > 0);
            }

            var batch = await query.OrderBy(f => f.Path).Take(ArchiveBatchSize)
                .Select(f => new { f.Path, f.Size, f.ObjectKey, f.AddedAt }).ToListAsync(ct);
            foreach (var f in batch)
            {
                yield return new ZipSource(f.Path, f.AddedAt, (target, token) => CopyObjectAsync(f.ObjectKey, f.Path, f.Size, target, token));
            }

            if (batch.Count < ArchiveBatchSize)
            {
                yield break;
            }

            after = batch[^1].Path;
        }
    }

    private async Task CopyObjectAsync(string key, string path, long size, Stream target, CancellationToken ct)
    {
        if (size == 0)
        {
            return;
        }

        await using var reader = await store.OpenReadAsync(key, null, ct)
            ?? throw new IOException($"The bytes of '{path}' are missing from storage.");
        var buffer = new byte[CopyBufferSize];
        long copied = 0;
        int read;
        while ((read = await reader.Content.ReadAsync(buffer, ct)) > 0)
        {
            await target.WriteAsync(buffer.AsMemory(0, read), ct);
            copied += read;
        }

        if (copied != size)
        {
            throw new IOException($"'{path}' holds {copied} bytes in storage but {size} were recorded.");
        }
    }

    /// <summary>
    /// A preview of one file from its first bytes only (a range read of at most <see cref="FilePreviews.TableBytes"/>):
    /// see <see cref="FilePreviews"/> for what each kind of file gives.
    /// </summary>
    public async Task<Result<FilePreview>> PreviewAsync(Guid userId, Guid datasetId, string version, string? path, CancellationToken ct = default)
    {
        var found = await FindFileAsync(userId, datasetId, version, path, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var file = found.Value!;
        var head = await ReadHeadAsync(file, FilePreviews.BytesToRead(file.Path), ct);
        return head is null
            ? Error.Conflict($"The bytes of '{file.Path}' are missing from storage; ask an admin to check the object store.")
            : FilePreviews.Build(file.Path, file.Size, head);
    }

    /// <summary>
    /// The media type to serve a file inline with: only PNG, JPEG, GIF or WebP whose magic bytes match
    /// (<see cref="FilePreviews.ImageMediaType"/>); null for everything else, which is served as an attachment.
    /// </summary>
    public async Task<string?> InlineImageTypeAsync(Guid userId, Guid datasetId, string version, string? path, CancellationToken ct = default)
    {
        var found = await FindFileAsync(userId, datasetId, version, path, ct);
        if (!found.IsSuccess || FilePreviews.BytesToRead(found.Value!.Path) != FilePreviews.MagicBytes)
        {
            return null;
        }

        var head = await ReadHeadAsync(found.Value, FilePreviews.MagicBytes, ct);
        return head is null ? null : FilePreviews.ImageMediaType(found.Value.Path, head);
    }

    /// <summary>
    /// What changed from version <paramref name="a"/> to <paramref name="b"/> ('draft', 'latest' or numbers): one
    /// FULL OUTER JOIN on path in PostgreSQL, paged by path (keyset, so a page of a 100,000-file diff costs one
    /// index range), with counts over the whole diff.
    /// </summary>
    public async Task<Result<VersionDiff>> DiffAsync(
        Guid userId, Guid datasetId, string a, string b, string? after, int? limit, CancellationToken ct = default)
    {
        var from = await ResolveVersionAsync(userId, datasetId, a, ct);
        if (!from.IsSuccess)
        {
            return from.Error!;
        }

        var to = await ResolveVersionAsync(userId, datasetId, b, ct);
        if (!to.IsSuccess)
        {
            return to.Error!;
        }

        if (after?.Contains('\0') == true)
        {
            return Error.Invalid("after", "Pass the 'next' of the previous page as 'after'.");
        }

        var take = Math.Clamp(limit ?? 100, 1, MaxFilePageSize);
        var (fromId, toId, start) = (from.Value, to.Value, after ?? "");
        var rows = await db.Database.SqlQuery<DiffRow>(
            $"""
            SELECT COALESCE(x."Path", y."Path") AS "Path", x."Size" AS "SizeBefore", y."Size" AS "SizeAfter",
                   x."Sha256" AS "Sha256Before", y."Sha256" AS "Sha256After"
            FROM (SELECT "Path", "Size", "Sha256" FROM "ArtifactFiles" WHERE "VersionId" = {fromId} AND "Path" > {start}) AS x
            FULL OUTER JOIN (SELECT "Path", "Size", "Sha256" FROM "ArtifactFiles" WHERE "VersionId" = {toId} AND "Path" > {start}) AS y
              ON x."Path" = y."Path"
            WHERE x."Path" IS NULL OR y."Path" IS NULL OR x."Sha256" <> y."Sha256" OR x."Size" <> y."Size"
            ORDER BY 1
            LIMIT {take + 1}
            """).ToListAsync(ct);
        var counts = await db.Database.SqlQuery<DiffCountRow>(
            $"""
            SELECT count(*) FILTER (WHERE x."Path" IS NULL) AS "Added",
                   count(*) FILTER (WHERE y."Path" IS NULL) AS "Removed",
                   count(*) FILTER (WHERE x."Sha256" <> y."Sha256" OR x."Size" <> y."Size") AS "Changed",
                   count(*) FILTER (WHERE x."Sha256" = y."Sha256" AND x."Size" = y."Size") AS "Unchanged"
            FROM (SELECT "Path", "Size", "Sha256" FROM "ArtifactFiles" WHERE "VersionId" = {fromId}) AS x
            FULL OUTER JOIN (SELECT "Path", "Size", "Sha256" FROM "ArtifactFiles" WHERE "VersionId" = {toId}) AS y
              ON x."Path" = y."Path"
            """).SingleAsync(ct);

        var page = rows.Take(take).ToList();
        var added = page.Where(r => r.SizeBefore is null).Select(r => new DiffFile(r.Path, r.SizeAfter!.Value, r.Sha256After!)).ToList();
        var removed = page.Where(r => r.SizeAfter is null).Select(r => new DiffFile(r.Path, r.SizeBefore!.Value, r.Sha256Before!)).ToList();
        var changed = page.Where(r => r.SizeBefore is not null && r.SizeAfter is not null)
            .Select(r => new ChangedFile(r.Path, r.SizeBefore!.Value, r.SizeAfter!.Value, r.Sha256Before!, r.Sha256After!)).ToList();
        return new VersionDiff(a, b, added, removed, changed,
            new DiffCounts((int)counts.Added, (int)counts.Removed, (int)counts.Changed, (int)counts.Unchanged),
            rows.Count > take ? page[^1].Path : null);
    }

    /// <summary>The row of a file in a readable version; not visible, no such version or no such file: not found.</summary>
    private async Task<Result<ArtifactFile>> FindFileAsync(Guid userId, Guid datasetId, string version, string? path, CancellationToken ct)
    {
        var resolved = await ResolveVersionAsync(userId, datasetId, version, ct);
        if (!resolved.IsSuccess)
        {
            return resolved.Error!;
        }

        var normalized = (path ?? "").Normalize(NormalizationForm.FormC);
        var file = await db.ArtifactFiles.AsNoTracking().FirstOrDefaultAsync(f => f.VersionId == resolved.Value && f.Path == normalized, ct);
        return file is null ? Error.NotFound($"File '{normalized}'") : file;
    }

    /// <summary>The first <paramref name="count"/> bytes (fewer when the file is shorter), by a range read; null when the object is missing.</summary>
    private async Task<byte[]?> ReadHeadAsync(ArtifactFile file, int count, CancellationToken ct)
    {
        var length = (int)Math.Min(count, file.Size);
        if (length == 0)
        {
            return [];
        }

        await using var reader = await store.OpenReadAsync(file.ObjectKey, new ByteRange(0, length - 1), ct);
        if (reader is null)
        {
            return null;
        }

        var buffer = new byte[length];
        var read = await reader.Content.ReadAtLeastAsync(buffer, length, throwOnEndOfStream: false, ct);
        return buffer[..read];
    }

    private sealed class DiffRow
    {
        public string Path { get; init; } = "";
        public long? SizeBefore { get; init; }
        public long? SizeAfter { get; init; }
        public string? Sha256Before { get; init; }
        public string? Sha256After { get; init; }
    }

    private sealed class DiffCountRow
    {
        public long Added { get; init; }
        public long Removed { get; init; }
        public long Changed { get; init; }
        public long Unchanged { get; init; }
    }
}
