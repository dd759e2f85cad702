using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Admin;
using Platform.Core.Common;

namespace Platform.Api.Admin;

/// <summary>Platform-wide views and settings; every route checks, against the database, that the caller is a platform admin.</summary>
public static class AdminApi
{
    public static RouteGroupBuilder MapAdminApi(this RouteGroupBuilder api)
    {
        var admin = api.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(RequireAdmin);
        admin.MapGet("/users", Users).WithSummary("All users, paged, with search.");
        admin.MapPatch("/users/{userId:guid}", UpdateUser).WithSummary("Grant or withdraw platform admin.");
        admin.MapGet("/accounts", Accounts).WithSummary("All accounts, paged, with search, with storage used and quota.");
        admin.MapPut("/accounts/{accountId:guid}/quota", SetQuota).WithSummary("Set an account's storage quota in bytes (null: unlimited).");
        admin.MapGet("/components", Components).WithSummary("Health of api, workers, database and storage.");
        admin.MapGet("/outbox", Outbox).WithSummary("Mail the platform sent or holds (read here when no SMTP server is configured).");
        admin.MapGet("/settings", GetSettings);
        admin.MapPatch("/settings", UpdateSettings).WithSummary("Registration mode: open or invite-only.");
        return api;
    }

    internal static async ValueTask<object?> RequireAdmin(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var admin = await http.RequestServices.GetRequiredService<AdminService>().RequireAdminAsync(http.User.UserId(), http.RequestAborted);
        return admin.IsSuccess ? await next(context) : ApiResults.Problem(admin.Error!);
    }

    public static async Task<Ok<PagedResponse<AdminUserResponse>>> Users(int? page, int? pageSize, string? search, AdminService admin, CancellationToken ct) =>
        TypedResults.Ok(await admin.ListUsersAsync(page, pageSize, search, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> UpdateUser(
        Guid userId, UpdateAdminUserRequest request, AdminService admin, CancellationToken ct)
    {
        if (request.IsPlatformAdmin is not { } isAdmin)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["isPlatformAdmin"] = ["isPlatformAdmin is required."] });
        }

        return ApiResults.NoContent(await admin.SetAdminAsync(userId, isAdmin, ct));
    }

    public static async Task<Ok<PagedResponse<AdminAccountResponse>>> Accounts(int? page, int? pageSize, string? search, AdminService admin, CancellationToken ct) =>
        TypedResults.Ok(await admin.ListAccountsAsync(page, pageSize, search, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> SetQuota(
        Guid accountId, UpdateAccountQuotaRequest request, AdminService admin, CancellationToken ct) =>
        ApiResults.NoContent(await admin.SetQuotaAsync(accountId, request, ct));

    public static async Task<Ok<IReadOnlyList<ComponentHealth>>> Components(ComponentHealthService health, CancellationToken ct) =>
        TypedResults.Ok(await health.CheckAllAsync(ct));

    public static async Task<Ok<PagedResponse<OutboxMessageResponse>>> Outbox(int? page, int? pageSize, AdminService admin, CancellationToken ct) =>
        TypedResults.Ok(await admin.ListOutboxAsync(page, pageSize, ct));

    public static async Task<Ok<SettingsResponse>> GetSettings(AdminService admin, CancellationToken ct) =>
        TypedResults.Ok(await admin.GetSettingsAsync(ct));

    public static async Task<Results<Ok<SettingsResponse>, ValidationProblem, ProblemHttpResult>> UpdateSettings(
        UpdateSettingsRequest request, AdminService admin, CancellationToken ct) =>
        ApiResults.Ok(await admin.UpdateSettingsAsync(request, ct));
}
