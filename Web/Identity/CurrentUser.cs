using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Persistence;

namespace Platform.Web.Identity;

/// <summary>What the layout and the pages need to know about the signed-in user, read once per request.</summary>
public sealed record UserSnapshot(
    Guid Id, string Email, string DisplayName, bool IsPlatformAdmin, IReadOnlyList<AccountResponse> Accounts, AccountResponse? Current);

/// <summary>
/// The signed-in user for this request. The snapshot is loaded lazily and memoised, so the layout (switcher,
/// admin link) and the page share one set of queries.
/// </summary>
public sealed class CurrentUser(IHttpContextAccessor http, UserManager<PlatformUser> users, PlatformDbContext db, AccountService accounts)
{
    private UserSnapshot? _snapshot;
    private bool _loaded;

    public bool IsSignedIn => http.HttpContext?.User.Identity?.IsAuthenticated == true && UserIdOrNull is not null;

    /// <summary>The signed-in user's id; only for pages that require sign-in (every page but the anonymous few).</summary>
    public Guid Id => UserIdOrNull ?? throw new InvalidOperationException("No user is signed in on this request.");

    private Guid? UserIdOrNull =>
        http.HttpContext is { } context && Guid.TryParse(users.GetUserId(context.User), out var id) ? id : null;

    public async Task<UserSnapshot?> GetAsync(CancellationToken ct = default)
    {
        if (_loaded)
        {
            return _snapshot;
        }

        _loaded = true;
        if (UserIdOrNull is not { } id)
        {
            return null;
        }

        var user = await db.Users.AsNoTracking().Where(u => u.Id == id)
            .Select(u => new { u.Email, u.DisplayName, u.IsPlatformAdmin, u.CurrentAccountId }).FirstOrDefaultAsync(ct);
        if (user is null)
        {
            return null;
        }

        var list = await accounts.ListForUserAsync(id, ct);
        var current = AccountService.PickCurrent(list, user.CurrentAccountId);
        _snapshot = new UserSnapshot(id, user.Email ?? "", user.DisplayName, user.IsPlatformAdmin, list, current);
        return _snapshot;
    }

    /// <summary>The snapshot of a page that requires sign-in; a user deleted mid-session is treated as signed out.</summary>
    public async Task<UserSnapshot> RequireAsync(CancellationToken ct = default) =>
        await GetAsync(ct) ?? throw new InvalidOperationException("The signed-in user no longer exists.");
}
