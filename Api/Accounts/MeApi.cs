using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Accounts;
using Platform.Core.Persistence;

namespace Platform.Api.Accounts;

public sealed record MeAccessKey(Guid Id, string Name, string Scope, DateTimeOffset? ExpiresAt);

/// <summary><see cref="DeploymentId"/> is set when a workload key asks: then the current account is the deployment's.</summary>
public sealed record MeResponse(
    UserResponse User, IReadOnlyList<AccountResponse> Accounts, Guid? CurrentAccountId, MeAccessKey? AccessKey, Guid? DeploymentId = null);

public static class MeApi
{
    public static RouteGroupBuilder MapMeApi(this RouteGroupBuilder api)
    {
        var me = api.MapGroup("/me").WithTags("Me");
        me.MapGet("/", GetMe).WithSummary("Who is asking: the user, their accounts and roles, and the access key used (if any).");
        me.MapPost("/current-account", SwitchAccount).WithSummary("Switch the account that pages and new work default to.");
        return api;
    }

    public static async Task<Results<Ok<MeResponse>, NotFound>> GetMe(
        ClaimsPrincipal principal, PlatformDbContext db, AccountService accounts, CancellationToken ct)
    {
        var userId = principal.UserId();
        var user = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new { Response = new UserResponse(u.Id, u.Email!, u.DisplayName, u.IsPlatformAdmin), u.CurrentAccountId })
            .FirstOrDefaultAsync(ct);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        var list = await accounts.ListForUserAsync(userId, ct);
        Guid? deployment = Guid.TryParse(principal.FindFirstValue(PlatformClaims.Deployment), out var d) ? d : null;
        var current = AccountService.PickCurrent(list,
            Guid.TryParse(principal.FindFirstValue(PlatformClaims.Account), out var account) ? account : user.CurrentAccountId);
        return TypedResults.Ok(new MeResponse(user.Response, list, current?.Id, KeyOf(principal), deployment));
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SwitchAccount(
        SwitchAccountRequest request, ClaimsPrincipal principal, AccountService accounts, CancellationToken ct)
    {
        if (request.AccountId is not { } accountId)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["accountId"] = ["accountId is required."] });
        }

        return ApiResults.NoContent(await accounts.SwitchAsync(principal.UserId(), accountId, ct));
    }

    private static MeAccessKey? KeyOf(ClaimsPrincipal principal)
    {
        if (!Guid.TryParse(principal.FindFirstValue(PlatformClaims.KeyId), out var keyId))
        {
            return null;
        }

        DateTimeOffset? expires = DateTimeOffset.TryParse(principal.FindFirstValue(PlatformClaims.KeyExpiresAt), CultureInfo.InvariantCulture, DateTimeStyles.None, out var e) ? e : null;
        return new MeAccessKey(keyId, principal.FindFirstValue(PlatformClaims.KeyName) ?? "", principal.FindFirstValue(PlatformClaims.KeyScope) ?? "", expires);
    }
}
