using Microsoft.EntityFrameworkCore;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Core.Datasets;

/// <summary>
/// Removes uploads nobody finished: those past their <see cref="Upload.ExpiresAt"/> have their multipart upload
/// aborted in the store (freeing the parts) and their rows deleted, which also frees their bytes from the quota. Safe
/// on several workers at once: each batch claims its rows with <c>FOR UPDATE SKIP LOCKED</c>, so no two workers, and no
/// completion or cancellation in progress, work on the same upload.
/// </summary>
public sealed class ExpiredUploads(PlatformDbContext db, IObjectStore store, TimeProvider clock)
{
    /// <summary>Aborts up to <paramref name="batch"/> expired uploads; returns how many. Store failures roll the batch back for the next run.</summary>
    public async Task<int> AbortBatchAsync(int batch, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var expired = await db.Uploads
            .FromSqlInterpolated($"""SELECT * FROM "Uploads" WHERE "ExpiresAt" <= {now} ORDER BY "ExpiresAt" LIMIT {batch} FOR UPDATE SKIP LOCKED""")
            .AsNoTracking().ToListAsync(ct);
        foreach (var upload in expired.Where(u => u.StoreUploadId.Length > 0))
        {
            await store.AbortMultipartAsync(upload.ObjectKey, upload.StoreUploadId, ct);
        }

        var ids = expired.Select(u => u.Id).ToList();
        await db.Uploads.Where(u => ids.Contains(u.Id)).ExecuteDeleteAsync(ct);
        await tx.CommitAsync(ct);
        return expired.Count;
    }
}
