using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Jobs;

/// <summary>Who a presented job key acts for: the job's owner, in the job's account, for that job only.</summary>
public sealed record JobKeyAuthentication(Guid UserId, Guid JobId, Guid AccountId, string Name);

/// <summary>
/// The <c>PLATFORM_API_KEY</c> a job's replicas get: <c>plat_job_{job id, 32 hex}_{40 base62}</c>, shaped like a
/// deployment's workload key (<c>plat_dep_…</c>) and, like it, never colliding with an access key
/// (<c>plat_{12 base62}_…</c>: no underscore in the prefix). Only SHA-256 of a key is stored, in
/// <see cref="Job.TokenHash"/>; the id in the key finds the row. A launch normally makes one key for all replicas; a launch
/// resumed after a worker died gives the replicas it still starts a new key (the first is known to nobody any more) and
/// appends its hash, so <see cref="Job.TokenHash"/> is one or more 32-byte hashes, each compared in constant time.
/// The key works only while the job is wanted running and is starting or running.
/// </summary>
public sealed class JobKeys(PlatformDbContext db)
{
    public const string Prefix = "plat_job_";
    private const int HashLength = 32;

    public static string New(Guid jobId) => Secrets.NewWorkloadKey(Prefix, jobId);

    public static bool IsJobKey(string presented) => presented.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Whether <paramref name="presented"/> hashes to one of the hashes in <paramref name="hashes"/>.</summary>
    public static bool Matches(string presented, byte[]? hashes)
    {
        if (hashes is null || hashes.Length == 0 || hashes.Length % HashLength != 0)
        {
            return false;
        }

        var hash = Secrets.Hash(presented);
        var found = false;
        for (var at = 0; at < hashes.Length; at += HashLength)
        {
            found |= CryptographicOperations.FixedTimeEquals(hash, hashes.AsSpan(at, HashLength));
        }

        return found;
    }

    /// <summary>Refusals say why, for the 401 body, but never whether the job exists.</summary>
    public async Task<Result<JobKeyAuthentication>> AuthenticateAsync(string presented, CancellationToken ct = default)
    {
        if (!Secrets.TryReadWorkloadKey(presented, Prefix, out var jobId))
        {
            return Error.Invalid("key", "The job key is malformed.");
        }

        var j = await db.Jobs.AsNoTracking()
            .Where(x => x.Id == jobId && x.TokenHash != null)
            .Select(x => new
            {
                x.OwnerUserId, x.AccountId, x.Name, x.TokenHash, x.Desired, x.Observed,
                Member = db.Memberships.Any(m => m.AccountId == x.AccountId && m.UserId == x.OwnerUserId),
            })
            .FirstOrDefaultAsync(ct);
        if (j is null || !Matches(presented, j.TokenHash))
        {
            return Error.Invalid("key", "The job key is not valid.");
        }

        if (j.Desired != JobDesired.Running || j.Observed is not (JobObserved.Starting or JobObserved.Running) || !j.Member)
        {
            return Error.Invalid("key", "The job key's job is not running.");
        }

        return new JobKeyAuthentication(j.OwnerUserId, jobId, j.AccountId, j.Name);
    }
}
