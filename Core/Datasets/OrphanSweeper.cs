using Microsoft.EntityFrameworkCore;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Core.Datasets;

/// <summary>
/// Removes stored objects that no file row refers to: what a crash leaves between storing bytes and recording them, or
/// between deleting rows and their objects (deletes always go rows first, so it is never the other way round). Only
/// objects older than <see cref="Grace"/> are touched, so an upload whose row is about to be written is left alone.
/// Safe to run on several workers at once: deleting an object twice is harmless.
/// </summary>
public sealed class OrphanSweeper(PlatformDbContext db, IObjectStore store, TimeProvider clock)
{
    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    private const int BatchSize = 500;

    /// <summary>Sweeps every account's objects; returns how many were removed.</summary>
    public async Task<int> SweepAsync(CancellationToken ct = default)
    {
        var cutoff = clock.GetUtcNow() - Grace;
        var removed = 0;
        var batch = new List<string>(BatchSize);
        await foreach (var info in store.ListAsync("accounts/", ct))
        {
            if (info.LastModified < cutoff)
            {
                batch.Add(info.Key);
            }

            if (batch.Count == BatchSize)
            {
                removed += await RemoveUnreferencedAsync(batch, ct);
                batch.Clear();
            }
        }

        return removed + await RemoveUnreferencedAsync(batch, ct);
    }

    private async Task<int> RemoveUnreferencedAsync(List<string> keys, CancellationToken ct)
    {
        if (keys.Count == 0)
        {
            return 0;
        }

        var used = await db.ArtifactFiles.Where(f => keys.Contains(f.ObjectKey)).Select(f => f.ObjectKey).Distinct().ToListAsync(ct);
        var orphans = keys.Except(used).ToList();
        if (orphans.Count > 0)
        {
            await store.DeleteManyAsync(orphans, ct);
        }

        return orphans.Count;
    }
}
