using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Admin;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Jobs;

namespace Platform.Api.Jobs;

/// <summary>
/// Job quotas and the scheduler's preview. Platform admins set an account's quotas (concurrent jobs, CPUs, GPUs, CPU- and
/// GPU-hours per day, week and month, fair-share weight); the account's masters set each member's within them; everyone
/// reads what applies to them with what they use. The preview says what the scheduler would decide for a job not yet
/// submitted (same body and field errors as submit).
/// </summary>
public static class JobQuotasApi
{
    public static RouteGroupBuilder MapJobQuotasApi(this RouteGroupBuilder api)
    {
        api.MapPost("/jobs/preview", Preview).WithTags("Jobs")
            .WithSummary("What the scheduler would decide if this job were submitted now: start now on a node, wait (why, position, estimated start), or never.");
        api.MapGet("/me/job-quotas", Mine).WithTags("Me").WithSummary("Your job quotas in each of your accounts, with what you and the account use now.");

        var accounts = api.MapGroup("/accounts/{accountId:guid}").WithTags("Accounts");
        accounts.MapGet("/members/{userId:guid}/job-quotas", GetMember).WithSummary("A member's job quotas in the account (masters).");
        accounts.MapPut("/members/{userId:guid}/job-quotas", SetMember).WithSummary("Set a member's job quotas, never above the account's (masters); null clears one.");

        var admin = api.MapGroup("/admin").WithTags("Admin").AddEndpointFilter(AdminApi.RequireAdmin);
        admin.MapGet("/accounts/{accountId:guid}/job-quotas", GetAccount).WithSummary("An account's job quotas (the platform's when it has none) and use.");
        admin.MapPut("/accounts/{accountId:guid}/job-quotas", SetAccount).WithSummary("Set an account's job quotas and fair-share weight; null clears one.");
        return api;
    }

    public static async Task<Results<Ok<JobPreviewResponse>, ValidationProblem, ProblemHttpResult>> Preview(
        SubmitJobRequest request, ClaimsPrincipal user, JobService jobs, CancellationToken ct) =>
        ApiResults.Ok(await jobs.PreviewAsync(user.UserId(), request, ct));

    public static async Task<Ok<MyJobQuotasResponse>> Mine(ClaimsPrincipal user, JobQuotaService quotas, CancellationToken ct) =>
        TypedResults.Ok(await quotas.GetMineAsync(user.UserId(), ct));

    public static async Task<Results<Ok<MemberJobQuotasResponse>, ValidationProblem, ProblemHttpResult>> GetMember(
        Guid accountId, Guid userId, ClaimsPrincipal user, JobQuotaService quotas, CancellationToken ct) =>
        ApiResults.Ok(await quotas.GetMemberAsync(user.UserId(), accountId, userId, ct));

    public static async Task<Results<Ok<MemberJobQuotasResponse>, ValidationProblem, ProblemHttpResult>> SetMember(
        Guid accountId, Guid userId, UpdateJobQuotasRequest request, ClaimsPrincipal user, JobQuotaService quotas, CancellationToken ct) =>
        ApiResults.Ok(await quotas.SetMemberAsync(user.UserId(), accountId, userId, request, ct));

    public static async Task<Results<Ok<AccountJobQuotasResponse>, ValidationProblem, ProblemHttpResult>> GetAccount(
        Guid accountId, JobQuotaService quotas, CancellationToken ct) =>
        ApiResults.Ok(await quotas.GetAccountAsync(accountId, ct));

    public static async Task<Results<Ok<AccountJobQuotasResponse>, ValidationProblem, ProblemHttpResult>> SetAccount(
        Guid accountId, UpdateJobQuotasRequest request, JobQuotaService quotas, CancellationToken ct) =>
        ApiResults.Ok(await quotas.SetAccountAsync(accountId, request, ct));
}
