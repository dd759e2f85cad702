using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Platform.Core.AccessKeys;

namespace Platform.Api.Authentication;

/// <summary>
/// Access keys this process checked in the last <see cref="Lifetime"/>, so a script posting metrics many times a
/// second costs one key lookup (and one hash check) every few seconds instead of one per request. Safe because a
/// revocation is heard at once: <see cref="AccessKeyService.RevokeAsync"/> sends <c>NOTIFY access_keys, '&lt;id&gt;'</c>,
/// the <see cref="Live.LiveRelay"/> evicts that key, and while the relay is not listening (at start, after a lost
/// connection) nothing is served from here. An entry also ends with its key's expiry. Keys are held by their SHA-256,
/// never in clear. Only user access keys are kept: job and deployment keys end with their workload's state, which
/// is checked on every request.
/// </summary>
public sealed class AccessKeyCache(TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private volatile bool listening;
    private long evictions;

    private sealed record Entry(AccessKeyAuthentication Key, DateTimeOffset Until);

    /// <summary>Read before looking a key up in the database and handed to <see cref="Add"/>: a revocation heard in between wins.</summary>
    public long Generation => Interlocked.Read(ref evictions);

    public bool TryGet(string presented, out AccessKeyAuthentication key)
    {
        key = null!;
        if (!listening)
        {
            return false;
        }

        var hash = Hash(presented);
        if (!entries.TryGetValue(hash, out var entry))
        {
            return false;
        }

        if (entry.Until <= clock.GetUtcNow())
        {
            entries.TryRemove(hash, out _);
            return false;
        }

        key = entry.Key;
        return true;
    }

    public void Add(string presented, AccessKeyAuthentication key, long generation)
    {
        if (!listening || generation != Generation)
        {
            return;
        }

        if (entries.Count >= MaxEntries)
        {
            entries.Clear();
        }

        var until = clock.GetUtcNow() + Lifetime;
        if (key.ExpiresAt is { } expires && expires < until)
        {
            until = expires;
        }

        entries[Hash(presented)] = new Entry(key, until);
    }

    /// <summary>A key was revoked (here or in another process): its next use is checked against the database.</summary>
    public void Evict(Guid keyId)
    {
        Interlocked.Increment(ref evictions);
        foreach (var (hash, entry) in entries)
        {
            if (entry.Key.KeyId == keyId)
            {
                entries.TryRemove(hash, out _);
            }
        }
    }

    /// <summary>The relay listens: revocations will be heard, so keys may be kept.</summary>
    public void Resume() => listening = true;

    /// <summary>The relay lost its connection: a revocation could go unheard, so nothing is kept until it is back.</summary>
    public void Suspend()
    {
        listening = false;
        Interlocked.Increment(ref evictions);
        entries.Clear();
    }

    private static string Hash(string presented) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(presented)));
}
