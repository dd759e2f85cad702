using Platform.Core.Persistence;

namespace Platform.Core.Datasets;

public sealed class StoredObject
{
    public Guid AccountId { get; init; }
    public string ObjectKey { get; init; } = "";
    public long Size { get; init; }
}

/// <summary>
/// The objects each account keeps, each once however many versions refer to it, and the bytes its open uploads have
/// received so far (one row per upload), and each training run's points ("runs/{id}"): what storage usage and quotas count, so parts sent and never completed
/// cannot hold storage outside the quota.
/// </summary>
public static class StoredObjects
{
    public static IQueryable<StoredObject> Of(PlatformDbContext db) =>
        (from f in db.ArtifactFiles
         join v in db.ArtifactVersions on f.VersionId equals v.Id
         join a in db.Artifacts on v.ArtifactId equals a.Id
         select new StoredObject { AccountId = a.AccountId, ObjectKey = f.ObjectKey, Size = f.Size }).Distinct()
        .Concat(
            from u in db.Uploads
            join a in db.Artifacts on u.ArtifactId equals a.Id
            select new StoredObject
            {
                AccountId = a.AccountId,
                ObjectKey = u.ObjectKey,
                Size = db.UploadParts.Where(p => p.UploadId == u.Id).Sum(p => (long?)p.Size) ?? 0,
            })
        // A training run's points, as one object of Run.Bytes.
        .Concat(
            from r in db.Runs
            select new StoredObject { AccountId = r.AccountId, ObjectKey = "runs/" + r.Id.ToString(), Size = r.Bytes });
}
