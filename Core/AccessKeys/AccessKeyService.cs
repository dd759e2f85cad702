using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.AccessKeys;

public sealed record CreateAccessKeyRequest(string? Name, string? Scope, DateTimeOffset? ExpiresAt);

public sealed record AccessKeyResponse(
    Guid Id, string Name, string Prefix, string Scope, string Status,
    DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

/// <summary>The only response that carries the whole key: it is not stored and cannot be shown again.</summary>
public sealed record CreatedAccessKeyResponse(AccessKeyResponse AccessKey, string Key);

/// <summary>Who a presented key acts for, or why it was refused.</summary>
public sealed record AccessKeyAuthentication(Guid UserId, Guid KeyId, string KeyName, AccessKeyScope Scope, DateTimeOffset? ExpiresAt);

public sealed class AccessKeyService(PlatformDbContext db, TimeProvider clock)
{
    /// <summary><c>NOTIFY access_keys, '&lt;keyId&gt;'</c> when a key is revoked.</summary>
    public const string Channel = "access_keys";

    public const string KeyPrefix = "plat_";
    public const int MaxKeysPerUser = 100;
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(366 * 3);

    /// <summary>Last-used times are written at most this often per key, so hot keys do not write on every request.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    private const int PrefixLength = 12;
    private const int SecretLength = 40;

    public async Task<Result<CreatedAccessKeyResponse>> CreateAsync(Guid userId, CreateAccessKeyRequest request, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var errors = new FieldErrors();
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > 100)
        {
            errors.Add("name", "Name is required (at most 100 characters).");
        }

        AccessKeyScope scope = AccessKeyScope.Full;
        if (request.Scope is not null && !TryParseScope(request.Scope, out scope))
        {
            errors.Add("scope", "Scope must be 'read' or 'full'.");
        }

        if (request.ExpiresAt is { } expires && (expires <= now || expires > now + MaxLifetime))
        {
            errors.Add("expiresAt", "Expiry must be in the future and at most three years away.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        if (await db.AccessKeys.CountAsync(k => k.UserId == userId && k.RevokedAt == null, ct) >= MaxKeysPerUser)
        {
            return Error.Conflict($"You have {MaxKeysPerUser} active keys; revoke some before creating more.");
        }

        var prefix = KeyPrefix + Secrets.NewToken(PrefixLength);
        var secret = Secrets.NewToken(SecretLength);
        var key = new AccessKey
        {
            Id = Guid.CreateVersion7(),
            UserId = userId,
            Name = name,
            Prefix = prefix,
            SecretHash = Secrets.Hash(secret),
            Scope = scope,
            CreatedAt = now,
            ExpiresAt = request.ExpiresAt,
        };
        db.AccessKeys.Add(key);
        await db.SaveChangesAsync(ct);
        return new CreatedAccessKeyResponse(ToResponse(key, now), $"{prefix}_{secret}");
    }

    public async Task<IReadOnlyList<AccessKeyResponse>> ListAsync(Guid userId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var keys = await db.AccessKeys.AsNoTracking().Where(k => k.UserId == userId)
            .OrderByDescending(k => k.CreatedAt).ToListAsync(ct);
        return keys.Select(k => ToResponse(k, now)).ToList();
    }

    public async Task<Result> RevokeAsync(Guid userId, Guid keyId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var found = await db.AccessKeys.Where(k => k.Id == keyId && k.UserId == userId)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, k => k.RevokedAt ?? now), ct);
        if (found == 0)
        {
            return Error.NotFound("Access key");
        }

        // Every Api process forgets the key it may have kept as checked (Api's AccessKeyCache).
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({Channel}, {keyId.ToString()})", ct);
        return Result.Success;
    }

    /// <summary>Checks a presented key in constant time against its stored hash. Refusals say why, for the 401 body.</summary>
    public async Task<Result<AccessKeyAuthentication>> AuthenticateAsync(string presented, CancellationToken ct = default)
    {
        var separator = presented.LastIndexOf('_');
        if (!presented.StartsWith(KeyPrefix, StringComparison.Ordinal) || separator != KeyPrefix.Length + PrefixLength)
        {
            return Error.Invalid("key", "The access key is malformed.");
        }

        var prefix = presented[..separator];
        var key = await db.AccessKeys.AsNoTracking()
            .Where(k => k.Prefix == prefix)
            .Select(k => new { k.Id, k.UserId, k.Name, k.SecretHash, k.Scope, k.ExpiresAt, k.RevokedAt, k.LastUsedAt })
            .FirstOrDefaultAsync(ct);
        if (key is null || !Secrets.HashEquals(presented[(separator + 1)..], key.SecretHash))
        {
            return Error.Invalid("key", "The access key is not valid.");
        }

        var now = clock.GetUtcNow();
        if (key.RevokedAt is not null)
        {
            return Error.Invalid("key", $"The access key '{key.Name}' was revoked.");
        }

        if (key.ExpiresAt <= now)
        {
            return Error.Invalid("key", $"The access key '{key.Name}' expired at {key.ExpiresAt:u}.");
        }

        if (key.LastUsedAt is null || now - key.LastUsedAt >= LastUsedResolution)
        {
            await db.AccessKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), ct);
        }

        return new AccessKeyAuthentication(key.UserId, key.Id, key.Name, key.Scope, key.ExpiresAt);
    }

    public static string ScopeToApi(AccessKeyScope scope) => scope.ToString().ToLowerInvariant();

    public static bool TryParseScope(string? value, out AccessKeyScope scope)
    {
        scope = default;
        return !string.IsNullOrWhiteSpace(value) && !int.TryParse(value, out _)
            && Enum.TryParse(value.Trim(), ignoreCase: true, out scope) && Enum.IsDefined(scope);
    }

    private static AccessKeyResponse ToResponse(AccessKey k, DateTimeOffset now) => new(
        k.Id, k.Name, k.Prefix, ScopeToApi(k.Scope),
        k.RevokedAt is not null ? "revoked" : k.IsActiveAt(now) ? "active" : "expired",
        k.CreatedAt, k.ExpiresAt, k.LastUsedAt, k.RevokedAt);
}
