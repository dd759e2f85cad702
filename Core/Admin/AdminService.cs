using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Admin;

public sealed record AdminUserResponse(
    Guid Id, string Email, string DisplayName, bool IsPlatformAdmin, DateTimeOffset CreatedAt, int Accounts, bool LockedOut);

public sealed record AdminAccountResponse(
    Guid Id, string Name, DateTimeOffset CreatedAt, int Members, IReadOnlyList<string> Masters, long UsedBytes, long? StorageQuotaBytes);

/// <summary>A quota in bytes, or null for unlimited.</summary>
public sealed record UpdateAccountQuotaRequest(long? StorageQuotaBytes);

public sealed record OutboxMessageResponse(
    Guid Id, string To, string Subject, string TextBody, DateTimeOffset CreatedAt, DateTimeOffset? SentAt, int Attempts, string? LastError);

public sealed record SettingsResponse(string RegistrationMode, bool AnonymousCatalog = false);

public sealed record UpdateSettingsRequest(string? RegistrationMode, bool? AnonymousCatalog = null);

public sealed record UpdateAdminUserRequest(bool? IsPlatformAdmin);

/// <summary>Platform-wide views for platform admins; every method checks that the asking user is one.</summary>
public sealed class AdminService(PlatformDbContext db, SettingsService settings, TimeProvider clock)
{
    public async Task<Result> RequireAdminAsync(Guid userId, CancellationToken ct = default) =>
        await db.Users.AnyAsync(u => u.Id == userId && u.IsPlatformAdmin, ct)
            ? Result.Success
            : Error.Forbidden("This needs a platform admin.");

    public async Task<PagedResponse<AdminUserResponse>> ListUsersAsync(int? page, int? pageSize, string? search, CancellationToken ct = default)
    {
        var (p, size) = Paging.Normalize(page, pageSize);
        var query = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            var pattern = $"%{search.Trim()}%";
            query = query.Where(u => EF.Functions.ILike(u.Email!, pattern) || EF.Functions.ILike(u.DisplayName, pattern));
        }

        var now = clock.GetUtcNow();
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(u => u.CreatedAt).Skip((p - 1) * size).Take(size)
            .Select(u => new AdminUserResponse(u.Id, u.Email!, u.DisplayName, u.IsPlatformAdmin, u.CreatedAt,
                db.Memberships.Count(m => m.UserId == u.Id), u.LockoutEnd != null && u.LockoutEnd > now))
            .ToListAsync(ct);
        return new PagedResponse<AdminUserResponse>(items, total, p, size);
    }

    public async Task<PagedResponse<AdminAccountResponse>> ListAccountsAsync(int? page, int? pageSize, string? search, CancellationToken ct = default)
    {
        var (p, size) = Paging.Normalize(page, pageSize);
        var query = db.Accounts.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(search))
        {
            query = query.Where(a => EF.Functions.ILike(a.Name, $"%{search.Trim()}%"));
        }

        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(a => a.Name).ThenBy(a => a.Id).Skip((p - 1) * size).Take(size)
            .Select(a => new AdminAccountResponse(a.Id, a.Name, a.CreatedAt, a.Members.Count,
                a.Members.Where(m => m.Role == Accounts.AccountRole.Master).Select(m => m.User!.Email!).ToList(),
                0L,
                a.StorageQuotaBytes))
            .ToListAsync(ct);
        var ids = items.Select(a => a.Id).ToList();
        var used = await Datasets.StoredObjects.Of(db).Where(o => ids.Contains(o.AccountId))
            .GroupBy(o => o.AccountId).Select(g => new { g.Key, Bytes = g.Sum(o => o.Size) })
            .ToDictionaryAsync(u => u.Key, u => u.Bytes, ct);
        return new PagedResponse<AdminAccountResponse>(
            items.Select(a => a with { UsedBytes = used.GetValueOrDefault(a.Id) }).ToList(), total, p, size);
    }

    public async Task<Result> SetQuotaAsync(Guid accountId, UpdateAccountQuotaRequest request, CancellationToken ct = default)
    {
        if (request.StorageQuotaBytes is < 0)
        {
            return Error.Invalid("storageQuotaBytes", "A quota is a number of bytes, zero or more; null removes it.");
        }

        var updated = await db.Accounts.Where(a => a.Id == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.StorageQuotaBytes, request.StorageQuotaBytes), ct);
        return updated == 0 ? Error.NotFound("Account") : Result.Success;
    }

    public async Task<PagedResponse<OutboxMessageResponse>> ListOutboxAsync(int? page, int? pageSize, CancellationToken ct = default)
    {
        var (p, size) = Paging.Normalize(page, pageSize);
        var total = await db.Outbox.CountAsync(ct);
        var items = await db.Outbox.AsNoTracking().OrderByDescending(m => m.CreatedAt).Skip((p - 1) * size).Take(size)
            .Select(m => new OutboxMessageResponse(m.Id, m.To, m.Subject, m.TextBody, m.CreatedAt, m.SentAt, m.Attempts, m.LastError))
            .ToListAsync(ct);
        return new PagedResponse<OutboxMessageResponse>(items, total, p, size);
    }

    public async Task<SettingsResponse> GetSettingsAsync(CancellationToken ct = default) =>
        new(ToApi(await settings.GetRegistrationModeAsync(ct)), await settings.GetAnonymousCatalogAsync(ct));

    public async Task<Result<SettingsResponse>> UpdateSettingsAsync(UpdateSettingsRequest request, CancellationToken ct = default)
    {
        if (request.RegistrationMode is not null)
        {
            var mode = request.RegistrationMode.Trim().ToLowerInvariant() switch
            {
                "open" => RegistrationMode.Open,
                "invite-only" or "inviteonly" => (RegistrationMode?)RegistrationMode.InviteOnly,
                _ => null,
            };
            if (mode is null)
            {
                return Error.Invalid("registrationMode", "Registration mode must be 'open' or 'invite-only'.");
            }

            await settings.SetRegistrationModeAsync(mode.Value, ct);
        }

        if (request.AnonymousCatalog is { } anonymous)
        {
            await settings.SetAnonymousCatalogAsync(anonymous, ct);
        }

        return await GetSettingsAsync(ct);
    }

    /// <summary>Grants or withdraws platform admin; the last admin cannot withdraw themselves.</summary>
    public async Task<Result> SetAdminAsync(Guid targetUserId, bool isAdmin, CancellationToken ct = default)
    {
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var admins = await db.Users.FromSqlRaw("SELECT * FROM \"AspNetUsers\" WHERE \"IsPlatformAdmin\" FOR UPDATE").ToListAsync(ct);
        var target = await db.Users.FirstOrDefaultAsync(u => u.Id == targetUserId, ct);
        if (target is null)
        {
            return Error.NotFound("User");
        }

        if (!isAdmin && target.IsPlatformAdmin && admins.Count == 1)
        {
            return Error.Conflict("The platform needs at least one admin: make someone else admin first.");
        }

        target.IsPlatformAdmin = isAdmin;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return Result.Success;
    }

    public static string ToApi(RegistrationMode mode) => mode == RegistrationMode.InviteOnly ? "invite-only" : "open";
}
