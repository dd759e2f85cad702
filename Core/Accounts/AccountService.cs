using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Accounts;

/// <summary>
/// Accounts and their members, always from the point of view of the asking user: an account the user is not a
/// member of is reported as not found (so ids do not leak), a role too low for the action as forbidden.
/// </summary>
public sealed class AccountService(PlatformDbContext db, TimeProvider clock)
{
    public const int NameMaxLength = 100;

    public async Task<IReadOnlyList<AccountResponse>> ListForUserAsync(Guid userId, CancellationToken ct = default) =>
        await db.Memberships.AsNoTracking()
            .Where(m => m.UserId == userId)
            .OrderBy(m => m.Account!.Name).ThenBy(m => m.AccountId)
            .Select(m => new AccountResponse(m.AccountId, m.Account!.Name, m.Role.ToApi(), m.Account.CreatedAt, m.Account.Members.Count))
            .ToListAsync(ct);

    public async Task<Result<AccountResponse>> GetAsync(Guid userId, Guid accountId, CancellationToken ct = default)
    {
        var account = await db.Memberships.AsNoTracking()
            .Where(m => m.UserId == userId && m.AccountId == accountId)
            .Select(m => new AccountResponse(m.AccountId, m.Account!.Name, m.Role.ToApi(), m.Account.CreatedAt, m.Account.Members.Count))
            .FirstOrDefaultAsync(ct);
        return account is null ? Error.NotFound("Account") : account;
    }

    public async Task<Result<AccountResponse>> CreateAsync(Guid userId, CreateAccountRequest request, CancellationToken ct = default)
    {
        if (ValidateName(request.Name) is { } invalid)
        {
            return invalid;
        }

        var account = NewAccount(request.Name!.Trim(), userId, clock.GetUtcNow());
        db.Accounts.Add(account);
        await db.SaveChangesAsync(ct);
        return new AccountResponse(account.Id, account.Name, AccountRole.Master.ToApi(), account.CreatedAt, 1);
    }

    public async Task<Result<AccountResponse>> RenameAsync(Guid userId, Guid accountId, UpdateAccountRequest request, CancellationToken ct = default)
    {
        var access = await RequireRoleAsync(userId, accountId, AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        if (ValidateName(request.Name) is { } invalid)
        {
            return invalid;
        }

        await db.Accounts.Where(a => a.Id == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.Name, request.Name!.Trim()), ct);
        return await GetAsync(userId, accountId, ct);
    }

    public async Task<Result<PagedResponse<MemberResponse>>> ListMembersAsync(
        Guid userId, Guid accountId, int? page, int? pageSize, string? search, CancellationToken ct = default)
    {
        var access = await RequireRoleAsync(userId, accountId, AccountRole.Viewer, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        var (p, size) = Paging.Normalize(page, pageSize);
        var query = db.Memberships.AsNoTracking().Where(m => m.AccountId == accountId);
        if (!string.IsNullOrWhiteSpace(search))
        {
            var pattern = $"%{search.Trim()}%";
            query = query.Where(m => EF.Functions.ILike(m.User!.Email!, pattern) || EF.Functions.ILike(m.User!.DisplayName, pattern));
        }

        var total = await query.CountAsync(ct);
        var items = await query
            .OrderByDescending(m => m.Role).ThenBy(m => m.User!.Email)
            .Skip((p - 1) * size).Take(size)
            .Select(m => new MemberResponse(m.UserId, m.User!.Email!, m.User.DisplayName, m.Role.ToApi(), m.JoinedAt))
            .ToListAsync(ct);
        return new PagedResponse<MemberResponse>(items, total, p, size);
    }

    public async Task<Result<MemberResponse>> SetRoleAsync(
        Guid userId, Guid accountId, Guid memberUserId, UpdateMemberRequest request, CancellationToken ct = default)
    {
        var access = await RequireRoleAsync(userId, accountId, AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        if (!Roles.TryParse(request.Role, out var role))
        {
            return Error.Invalid("role", "Role must be one of: master, member, viewer.");
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var members = await LockMembersAsync(accountId, ct);
        var member = members.FirstOrDefault(m => m.UserId == memberUserId);
        if (member is null)
        {
            return Error.NotFound("Member");
        }

        if (member.Role == AccountRole.Master && role != AccountRole.Master && members.Count(m => m.Role == AccountRole.Master) == 1)
        {
            return Error.Conflict("An account needs at least one master: make another member master first.");
        }

        member.Role = role;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        var user = await db.Users.AsNoTracking().FirstAsync(u => u.Id == memberUserId, ct);
        return new MemberResponse(member.UserId, user.Email!, user.DisplayName, role.ToApi(), member.JoinedAt);
    }

    /// <summary>A master removes anyone; any member may remove themselves (leave). The last master cannot go.</summary>
    public async Task<Result> RemoveMemberAsync(Guid userId, Guid accountId, Guid memberUserId, CancellationToken ct = default)
    {
        var access = await RequireRoleAsync(userId, accountId, memberUserId == userId ? AccountRole.Viewer : AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var members = await LockMembersAsync(accountId, ct);
        var member = members.FirstOrDefault(m => m.UserId == memberUserId);
        if (member is null)
        {
            return Error.NotFound("Member");
        }

        if (member.Role == AccountRole.Master && members.Count(m => m.Role == AccountRole.Master) == 1)
        {
            return Error.Conflict("An account needs at least one master: make another member master first.");
        }

        var otherAccounts = await db.Memberships.CountAsync(m => m.UserId == memberUserId && m.AccountId != accountId, ct);
        if (otherAccounts == 0)
        {
            return Error.Conflict("Every user belongs to at least one account: this is the member's only account.");
        }

        db.Memberships.Remove(member);
        await db.SaveChangesAsync(ct);
        await db.Users.Where(u => u.Id == memberUserId && u.CurrentAccountId == accountId)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.CurrentAccountId, (Guid?)null), ct);
        await tx.CommitAsync(ct);
        return Result.Success;
    }

    public async Task<Result> SwitchAsync(Guid userId, Guid accountId, CancellationToken ct = default)
    {
        var access = await RequireRoleAsync(userId, accountId, AccountRole.Viewer, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.CurrentAccountId, accountId), ct);
        return Result.Success;
    }

    /// <summary>The user's current account, falling back to the first they belong to when unset or left.</summary>
    public async Task<AccountResponse?> GetCurrentAsync(Guid userId, CancellationToken ct = default)
    {
        var currentId = await db.Users.Where(u => u.Id == userId).Select(u => u.CurrentAccountId).FirstOrDefaultAsync(ct);
        return PickCurrent(await ListForUserAsync(userId, ct), currentId);
    }

    public static AccountResponse? PickCurrent(IReadOnlyList<AccountResponse> accounts, Guid? currentId) =>
        accounts.FirstOrDefault(a => a.Id == currentId) ?? accounts.FirstOrDefault();

    /// <summary>
    /// The membership that lets <paramref name="userId"/> act on the account with at least <paramref name="minimum"/>:
    /// not a member gives NotFound (ids do not leak), a lower role Forbidden.
    /// </summary>
    public async Task<Result<AccountRole>> RequireRoleAsync(Guid userId, Guid accountId, AccountRole minimum, CancellationToken ct = default)
    {
        var role = await db.Memberships.AsNoTracking()
            .Where(m => m.UserId == userId && m.AccountId == accountId)
            .Select(m => (AccountRole?)m.Role)
            .FirstOrDefaultAsync(ct);
        if (role is null)
        {
            return Error.NotFound("Account");
        }

        return role >= minimum
            ? role.Value
            : Error.Forbidden($"This needs the {minimum.ToApi()} role in the account; you are {role.Value.ToApi()}.");
    }

    internal static Account NewAccount(string name, Guid masterUserId, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(),
        Name = name,
        CreatedAt = now,
        Members = [new Membership { UserId = masterUserId, Role = AccountRole.Master, JoinedAt = now }],
    };

    private static Error? ValidateName(string? name)
    {
        var trimmed = name?.Trim() ?? "";
        return trimmed.Length switch
        {
            0 => Error.Invalid("name", "Name is required."),
            > NameMaxLength => Error.Invalid("name", $"Name must be at most {NameMaxLength} characters."),
            _ => null,
        };
    }

    /// <summary>Row locks on the account's memberships, so concurrent demotions cannot leave it without a master.</summary>
    private Task<List<Membership>> LockMembersAsync(Guid accountId, CancellationToken ct) =>
        db.Memberships.FromSqlInterpolated($"SELECT * FROM \"Memberships\" WHERE \"AccountId\" = {accountId} FOR UPDATE")
            .ToListAsync(ct);
}
