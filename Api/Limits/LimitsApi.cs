using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Admin;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Deployments;
using Platform.Core.Limits;

namespace Platform.Api.Limits;

/// <summary>
/// Per-user limits (deployments, CPUs and GPUs wanted running at once) and per-account idle culling. Platform admins
/// set a user's platform-wide caps and any account's idle settings; an account's masters set its members' caps there
/// (never above the platform's) and its idle settings. Everyone reads their own limits with what they use.
/// </summary>
public static class LimitsApi
{
    public static RouteGroupBuilder MapLimitsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/me/limits", Mine).WithTags("Me").WithSummary("Your limits and what you use against them, platform-wide and per account.");

        var accounts = api.MapGroup("/accounts/{accountId:guid}").WithTags("Accounts");
        accounts.MapGet("/members/{userId:guid}/limits", GetMember).WithSummary("A member's limits in the account (masters).");
        accounts.MapPut("/members/{userId:guid}/limits", SetMember).WithSummary("Set a member's limits in the account (masters); null clears one.");
        accounts.MapGet("/idle-culling", GetIdle).WithSummary("When idle IDEs of the account are stopped (members).");
        accounts.MapPut("/idle-culling", SetIdle).WithSummary("Set when idle IDEs of the account are stopped (masters); null takes the platform default, 0 is off.");

        var admin = api.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(AdminApi.RequireAdmin);
        admin.MapGet("/users/{userId:guid}/limits", GetUser).WithSummary("A user's platform-wide limits and usage.");
        admin.MapPut("/users/{userId:guid}/limits", SetUser).WithSummary("Set a user's platform-wide limits; null takes the platform default.");
        admin.MapPut("/accounts/{accountId:guid}/idle-culling", SetIdleAsAdmin).WithSummary("Set any account's idle culling.");
        return api;
    }

    public static async Task<Ok<MyLimitsResponse>> Mine(ClaimsPrincipal user, LimitService limits, CancellationToken ct) =>
        TypedResults.Ok(await limits.GetMineAsync(user.UserId(), ct));

    public static async Task<Results<Ok<MemberLimitsResponse>, ValidationProblem, ProblemHttpResult>> GetMember(
        Guid accountId, Guid userId, ClaimsPrincipal user, LimitService limits, CancellationToken ct) =>
        ApiResults.Ok(await limits.GetMemberAsync(user.UserId(), accountId, userId, ct));

    public static async Task<Results<Ok<MemberLimitsResponse>, ValidationProblem, ProblemHttpResult>> SetMember(
        Guid accountId, Guid userId, UpdateLimitsRequest request, ClaimsPrincipal user, LimitService limits, CancellationToken ct) =>
        ApiResults.Ok(await limits.SetMemberAsync(user.UserId(), accountId, userId, request, ct));

    public static async Task<Results<Ok<UserLimitsResponse>, ValidationProblem, ProblemHttpResult>> GetUser(
        Guid userId, LimitService limits, CancellationToken ct) =>
        ApiResults.Ok(await limits.GetUserAsync(userId, ct));

    public static async Task<Results<Ok<UserLimitsResponse>, ValidationProblem, ProblemHttpResult>> SetUser(
        Guid userId, UpdateLimitsRequest request, LimitService limits, CancellationToken ct) =>
        ApiResults.Ok(await limits.SetUserAsync(userId, request, ct));

    public static async Task<Results<Ok<IdleSettingsResponse>, ValidationProblem, ProblemHttpResult>> GetIdle(
        Guid accountId, ClaimsPrincipal user, IdleSettingsService idle, CancellationToken ct) =>
        ApiResults.Ok(await idle.GetAsync(user.UserId(), accountId, ct));

    public static async Task<Results<Ok<IdleSettingsResponse>, ValidationProblem, ProblemHttpResult>> SetIdle(
        Guid accountId, UpdateIdleSettingsRequest request, ClaimsPrincipal user, IdleSettingsService idle, CancellationToken ct) =>
        ApiResults.Ok(await idle.SetAsMasterAsync(user.UserId(), accountId, request, ct));

    public static async Task<Results<Ok<IdleSettingsResponse>, ValidationProblem, ProblemHttpResult>> SetIdleAsAdmin(
        Guid accountId, UpdateIdleSettingsRequest request, IdleSettingsService idle, CancellationToken ct) =>
        ApiResults.Ok(await idle.SetAsync(accountId, request, ct));
}
