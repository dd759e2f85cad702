using System.Globalization;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Common;
using Platform.Core.Storage;

namespace Platform.Core.Datasets;

/// <summary>
/// Resumable uploads: a file is declared (path, size, optional SHA-256), checked against the quota before any byte,
/// sent in parts that may arrive in any order and be sent again, and completed into the draft once every part is in.
/// Only the artifact's writers see its uploads. Guarantees: a completed upload puts exactly the declared bytes (size
/// and, when declared, SHA-256 verified by reading the object once) into the draft, as <see cref="UploadAsync"/> does;
/// a failed or cancelled one adds nothing and leaves the draft as it was.
/// </summary>
public partial class ArtifactService
{
    [GeneratedRegex("^[0-9a-f]{64}$")]
    private static partial Regex Sha256Pattern();

    private static Error UploadNotFound() => new(ErrorKind.NotFound,
        "The upload was not found: it was completed, cancelled, or it expired after a day without a part; start a new one.");

    public async Task<Result<UploadResponse>> StartUploadAsync(Guid userId, Guid artifactId, StartUploadRequest request, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, artifactId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var errors = new FieldErrors();
        if (!ArtifactPath.TryNormalize(request.Path, out var path, out var problem))
        {
            errors.Add("path", problem);
        }

        if (request.Size is not ({ } size and >= 0))
        {
            errors.Add("size", "Give the file's size in bytes (zero or more).");
        }
        else if (size > UploadLimits.MaxFileBytes)
        {
            errors.Add("size", $"The file is {size} bytes; a file may be at most {UploadLimits.MaxFileBytes} bytes ({UploadLimits.MaxFileBytes >> 30} GiB).");
        }

        var sha256 = string.IsNullOrWhiteSpace(request.Sha256) ? null : request.Sha256.Trim().ToLowerInvariant();
        if (sha256 is not null && !Sha256Pattern().IsMatch(sha256))
        {
            errors.Add("sha256", "Give the SHA-256 as 64 hexadecimal digits, or leave it out.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var artifact = found.Value!;
        var declared = request.Size!.Value;

        // The account row lock serialises starts of one account, so two uploads cannot both take the last bytes left.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT 1 FROM \"Accounts\" WHERE \"Id\" = {artifact.AccountId} FOR UPDATE", ct);
        if (await QuotaErrorAsync(artifact.AccountId, declared, ct) is { } over)
        {
            return over;
        }

        var key = $"accounts/{artifact.AccountId:N}/objects/{Guid.CreateVersion7():N}";
        var now = clock.GetUtcNow();
        var upload = new Upload
        {
            Id = Guid.CreateVersion7(),
            ArtifactId = artifactId,
            Path = path,
            ObjectKey = key,
            // An empty file needs no parts: completing it stores an empty object.
            StoreUploadId = declared == 0 ? "" : await store.StartMultipartAsync(key, ct),
            Size = declared,
            PartSize = UploadLimits.PartSizeFor(declared),
            Sha256 = sha256,
            CreatedByUserId = userId,
            CreatedAt = now,
            ExpiresAt = now + UploadLimits.Expiry,
        };
        db.Uploads.Add(upload);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        db.Entry(upload).State = EntityState.Detached;
        return ToResponse(upload, []);
    }

    /// <summary>Where an upload stands: the parts received so far, so a client resumes by sending only the others.</summary>
    public async Task<Result<UploadResponse>> GetUploadAsync(Guid userId, Guid artifactId, Guid uploadId, CancellationToken ct = default)
    {
        var found = await FindUploadAsync(userId, artifactId, uploadId, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var parts = await db.UploadParts.AsNoTracking().Where(p => p.UploadId == uploadId).OrderBy(p => p.Number).ToListAsync(ct);
        return ToResponse(found.Value!, parts);
    }

    /// <summary>
    /// Stores part <paramref name="number"/>, which must be exactly its expected length; a part sent again replaces the
    /// earlier one. A body that ends early throws <see cref="IOException"/> and leaves the upload as it was.
    /// </summary>
    public async Task<Result<UploadPartResponse>> UploadPartAsync(
        Guid userId, Guid artifactId, Guid uploadId, int number, Stream content, long? length, CancellationToken ct = default)
    {
        var found = await FindUploadAsync(userId, artifactId, uploadId, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var upload = found.Value!;
        if (number < 1 || number > upload.PartCount)
        {
            return Error.Invalid("number", upload.PartCount == 0
                ? "This upload is of an empty file: it has no parts; complete it."
                : $"Part numbers of this upload run from 1 to {upload.PartCount}.");
        }

        var expected = upload.LengthOfPart(number);
        if (length is { } given && given != expected)
        {
            return Error.Invalid("length", $"Part {number} must be exactly {expected} bytes; this one is {given}.");
        }

        UploadedPart part;
        try
        {
            using var exact = new ExactLengthStream(content, expected);
            part = await store.UploadPartAsync(upload.ObjectKey, upload.StoreUploadId, number, exact, expected, ct);
        }
        catch (KeyNotFoundException)
        {
            return UploadNotFound();
        }

        var expiresAt = clock.GetUtcNow() + UploadLimits.Expiry;
        try
        {
            await db.Database.ExecuteSqlInterpolatedAsync(
                $"""
                INSERT INTO "UploadParts" ("UploadId", "Number", "Size", "ETag") VALUES ({uploadId}, {number}, {part.Length}, {part.ETag})
                ON CONFLICT ("UploadId", "Number") DO UPDATE SET "Size" = EXCLUDED."Size", "ETag" = EXCLUDED."ETag"
                """, ct);
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            // Completed, cancelled or expired while the part was on its way.
            return UploadNotFound();
        }

        await db.Uploads.Where(u => u.Id == uploadId).ExecuteUpdateAsync(s => s.SetProperty(u => u.ExpiresAt, expiresAt), ct);
        return new UploadPartResponse(number, part.Length, expiresAt);
    }

    /// <summary>
    /// Joins the parts, checks the size and the declared SHA-256 by reading the object once, and puts the file into the
    /// draft (replacing a file at the same path, freeing its object when unshared). Once the store has joined the parts
    /// the work runs to its end even if the caller goes away. A wrong hash or size deletes the object and the upload.
    /// </summary>
    public async Task<Result<DatasetFileResponse>> CompleteUploadAsync(Guid userId, Guid artifactId, Guid uploadId, CancellationToken ct = default)
    {
        var found = await FindUploadAsync(userId, artifactId, uploadId, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await ClaimAsync(uploadId, ct) is { } busy)
        {
            return busy;
        }

        var upload = found.Value!;
        ObjectInfo joined;
        if (upload.Size == 0)
        {
            joined = await store.PutAsync(upload.ObjectKey, Stream.Null, 0, ct);
        }
        else
        {
            IReadOnlyList<UploadedPart> received;
            try
            {
                received = await store.ListPartsAsync(upload.ObjectKey, upload.StoreUploadId, ct);
            }
            catch (KeyNotFoundException)
            {
                await db.Uploads.Where(u => u.Id == uploadId).ExecuteDeleteAsync(ct);
                await tx.CommitAsync(ct);
                return UploadNotFound();
            }

            var byNumber = received.ToDictionary(p => p.PartNumber);
            var missing = Enumerable.Range(1, upload.PartCount)
                .Where(n => !byNumber.TryGetValue(n, out var p) || p.Length != upload.LengthOfPart(n)).ToList();
            if (missing.Count > 0)
            {
                return Error.Conflict($"{missing.Count} of {upload.PartCount} parts have not arrived ({Ranges(missing)}); send them, then complete.");
            }

            joined = await store.CompleteMultipartAsync(
                upload.ObjectKey, upload.StoreUploadId, Enumerable.Range(1, upload.PartCount).Select(n => byNumber[n]).ToList(), ct);
        }

        // The parts are joined and the multipart upload is gone: finish whatever the caller does meanwhile.
        return await FinishUploadAsync(upload, joined, CancellationToken.None);
    }

    /// <summary>Cancels an open upload: its parts are deleted from the store and it no longer counts against the quota.</summary>
    public async Task<Result> AbortUploadAsync(Guid userId, Guid artifactId, Guid uploadId, CancellationToken ct = default)
    {
        var found = await FindUploadAsync(userId, artifactId, uploadId, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await ClaimAsync(uploadId, ct) is { } busy)
        {
            return busy;
        }

        await AbortInStoreAsync(found.Value!, ct);
        await db.Uploads.Where(u => u.Id == uploadId).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return Result.Success;
    }

    /// <summary>Aborts an upload's multipart upload in the store; already gone is fine.</summary>
    internal async Task AbortInStoreAsync(Upload upload, CancellationToken ct)
    {
        if (upload.StoreUploadId.Length > 0)
        {
            await store.AbortMultipartAsync(upload.ObjectKey, upload.StoreUploadId, ct);
        }
    }

    /// <summary>Before an artifact is deleted (its upload rows go with it): releases its uploads' parts in the store.</summary>
    private async Task AbortUploadsOfAsync(Guid artifactId, CancellationToken ct)
    {
        foreach (var upload in await db.Uploads.AsNoTracking().Where(u => u.ArtifactId == artifactId).ToListAsync(ct))
        {
            await AbortInStoreAsync(upload, ct);
        }
    }

    private async Task<Result<DatasetFileResponse>> FinishUploadAsync(Upload upload, ObjectInfo joined, CancellationToken ct)
    {
        string? replacedKey;
        ArtifactFile file;
        try
        {
            var sha256 = await HashObjectAsync(upload.ObjectKey, ct);
            var problem = joined.Length != upload.Size
                ? Error.Invalid("size", $"The parts add up to {joined.Length} bytes, not the declared {upload.Size}; nothing was added. Upload the file again.")
                : upload.Sha256 is { } declared && declared != sha256
                    ? Error.Invalid("sha256", $"The file's SHA-256 is {sha256}, not the declared {declared}; nothing was added. Upload the file again.")
                    : null;
            await db.Uploads.Where(u => u.Id == upload.Id).ExecuteDeleteAsync(ct);
            if (problem is not null)
            {
                await db.Database.CommitTransactionAsync(ct);
                await store.DeleteAsync(upload.ObjectKey, ct);
                return problem;
            }

            file = new ArtifactFile { Path = upload.Path, Size = joined.Length, Sha256 = sha256, ObjectKey = upload.ObjectKey, AddedAt = clock.GetUtcNow() };
            replacedKey = await PutIntoDraftAsync(upload.ArtifactId, file, ct);
            await db.Database.CommitTransactionAsync(ct);
        }
        catch
        {
            await store.DeleteAsync(upload.ObjectKey, CancellationToken.None);
            throw;
        }

        if (replacedKey is not null)
        {
            await FreeUnreferencedAsync([replacedKey], ct);
        }

        return ToResponse(file);
    }

    private async Task<string> HashObjectAsync(string key, CancellationToken ct)
    {
        await using var reader = await store.OpenReadAsync(key, null, ct)
            ?? throw new InvalidOperationException($"The joined object '{key}' is missing from the store.");
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(reader.Content, ct));
    }

    /// <summary>
    /// Locks the upload's row for the transaction, so a completion, a cancellation and the expiry sweep never work on
    /// the same upload at once. Null when claimed; otherwise why not.
    /// </summary>
    private async Task<Error?> ClaimAsync(Guid uploadId, CancellationToken ct)
    {
        var claimed = await db.Database
            .SqlQuery<Guid>($"SELECT \"Id\" AS \"Value\" FROM \"Uploads\" WHERE \"Id\" = {uploadId} FOR UPDATE SKIP LOCKED")
            .ToListAsync(ct);
        return claimed.Count == 1 ? null
            : await db.Uploads.AnyAsync(u => u.Id == uploadId, ct) ? Error.Conflict("The upload is being completed or cancelled by another request.")
            : UploadNotFound();
    }

    /// <summary>An open, unexpired upload of this artifact, for its writers; anyone else gets the artifact's own answer.</summary>
    private async Task<Result<Upload>> FindUploadAsync(Guid userId, Guid artifactId, Guid uploadId, CancellationToken ct)
    {
        var found = await FindAsync(userId, artifactId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var now = clock.GetUtcNow();
        var upload = await db.Uploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == uploadId && u.ArtifactId == artifactId && u.ExpiresAt > now, ct);
        return upload is null ? UploadNotFound() : upload;
    }

    /// <summary>Bytes the account's open uploads have declared but not yet sent: held for them against the quota.</summary>
    private async Task<long> PendingUploadBytesAsync(Guid accountId, CancellationToken ct) =>
        await (from u in db.Uploads
               join a in db.Artifacts on u.ArtifactId equals a.Id
               where a.AccountId == accountId
               select u.Size - (db.UploadParts.Where(p => p.UploadId == u.Id).Sum(p => (long?)p.Size) ?? 0))
            .SumAsync(ct);

    private static UploadResponse ToResponse(Upload u, IReadOnlyList<UploadPart> parts) =>
        new(u.Id, u.Path, u.Size, u.Sha256, u.PartSize, u.PartCount, parts.Select(p => p.Number).ToList(), parts.Sum(p => p.Size), u.CreatedAt, u.ExpiresAt);

    /// <summary>"1-3, 7", for messages about missing parts.</summary>
    private static string Ranges(IReadOnlyList<int> numbers)
    {
        var ranges = new List<string>();
        for (var i = 0; i < numbers.Count;)
        {
            var j = i;
            while (j + 1 < numbers.Count && numbers[j + 1] == numbers[j] + 1)
            {
                j++;
            }

            ranges.Add(i == j ? numbers[i].ToString(CultureInfo.InvariantCulture) : $"{numbers[i]}-{numbers[j]}");
            i = j + 1;
        }

        return "part " + string.Join(", ", ranges.Take(20)) + (ranges.Count > 20 ? ", …" : "");
    }
}
