using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Jobs;

namespace Platform.Api.Jobs;

/// <summary>
/// The job list: the caller's jobs (or, scope=account, every member's in the accounts they master), filtered by state,
/// submission time and name, sorted, keyset-paged with opaque cursors. Values that do not parse are field errors, not
/// a bare 400 from binding.
/// </summary>
public static class JobListApi
{
    public static RouteGroupBuilder MapJobListApi(this RouteGroupBuilder api)
    {
        api.MapGroup("/jobs").WithTags("Jobs")
            .MapGet("/", List)
            .WithSummary("Jobs newest first (or by name), filtered by status (comma-separated), from/to (ISO 8601), q (part of the name), scope mine|account; page with next/prev.");
        return api;
    }

    public static async Task<Results<Ok<JobListResponse>, ValidationProblem, ProblemHttpResult>> List(
        string? status, string? from, string? to, string? q, string? scope, string? accountId, string? sort, string? order,
        string? after, string? before, string? pageSize, ClaimsPrincipal user, JobService jobs, CancellationToken ct)
    {
        var errors = new Dictionary<string, string[]>();
        DateTimeOffset? Time(string? text, string field)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                return null;
            }

            if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
            {
                return value;
            }

            errors[field] = [$"'{Cut(text)}' is not a date and time: use ISO 8601, such as 2026-11-21T18:00:00Z."];
            return null;
        }

        var fromTime = Time(from, "from");
        var toTime = Time(to, "to");
        Guid? account = null;
        if (!string.IsNullOrWhiteSpace(accountId))
        {
            if (Guid.TryParse(accountId, out var parsed))
            {
                account = parsed;
            }
            else
            {
                errors["accountId"] = ["Not an account id."];
            }
        }

        int? size = null;
        if (!string.IsNullOrWhiteSpace(pageSize))
        {
            if (int.TryParse(pageSize, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed))
            {
                size = parsed;
            }
            else
            {
                errors["pageSize"] = ["The page size is a whole number from 1 to 200."];
            }
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "One or more fields are invalid.", title: "The request is not valid.");
        }

        var query = new ListJobsQuery(status, fromTime, toTime, q, scope, account, sort, order, after, before, size);
        return ApiResults.Ok(await jobs.ListAsync(user.UserId(), query, ct));
    }

    private static string Cut(string text) => text.Length > 40 ? text[..40] + "…" : text;
}
