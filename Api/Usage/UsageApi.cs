using System.Security.Claims;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Admin;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Jobs.Backends;
using Platform.Core.Usage;

namespace Platform.Api.Usage;

/// <summary>
/// Usage: a job's (or a deployment's) sampled series for its charts, for whoever may see it (others: 404); accounted
/// CPU- and GPU-hours with limits, the caller's own or, for masters, the whole account's (others: 403), as JSON or
/// CSV; and the batch backend's nodes for platform admins.
/// </summary>
public static class UsageApi
{
    public static RouteGroupBuilder MapUsageApi(this RouteGroupBuilder api)
    {
        api.MapGet("/jobs/{jobId:guid}/usage", JobSeries).WithTags("Usage")
            .WithSummary("The job's CPU, memory, GPU, network and disk per replica, one point per 10 s (owner and masters of its account).");
        api.MapGet("/deployments/{deploymentId:guid}/usage", DeploymentSeries).WithTags("Usage")
            .WithSummary("The deployment's CPU, memory, GPU, network and disk, one point per 10 s.");
        api.MapGet("/usage", Report).WithTags("Usage")
            .WithSummary("Limits against use now, and CPU-/GPU-hours per hour (window=day) or day (week, month), jobs and IDEs apart; format=csv for CSV.");
        api.MapGet("/usage.csv", ReportCsv).WithTags("Usage").WithSummary("The usage report as CSV, one row per bucket and workload.");
        api.MapGet("/admin/nodes", Nodes).WithTags("Admin").AddEndpointFilter(AdminApi.RequireAdmin)
            .WithSummary("The batch backend's nodes: capacity, allocation by running jobs and deployments, live CPU and memory (platform admins).");
        return api;
    }

    public static async Task<Results<Ok<WorkloadUsageResponse>, ValidationProblem, ProblemHttpResult>> JobSeries(
        Guid jobId, ClaimsPrincipal user, UsageService usage, CancellationToken ct) =>
        ApiResults.Ok(await usage.JobSeriesAsync(user.UserId(), jobId, ct));

    public static async Task<Results<Ok<WorkloadUsageResponse>, ValidationProblem, ProblemHttpResult>> DeploymentSeries(
        Guid deploymentId, ClaimsPrincipal user, UsageService usage, CancellationToken ct) =>
        ApiResults.Ok(await usage.DeploymentSeriesAsync(user.UserId(), deploymentId, ct));

    public static async Task<Results<Ok<UsageReportResponse>, FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Report(
        string? window, string? scope, Guid? accountId, string? format, ClaimsPrincipal user, UsageService usage, CancellationToken ct)
    {
        if (string.Equals(format, "csv", StringComparison.OrdinalIgnoreCase))
        {
            return await Csv(window, scope, accountId, user, usage, ct);
        }

        if (!string.IsNullOrEmpty(format) && !string.Equals(format, "json", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["format"] = ["format must be json or csv."] });
        }

        var report = await usage.ReportAsync(user.UserId(), accountId, window, scope, ct);
        return report.IsSuccess ? TypedResults.Ok(report.Value!) : Problem(report.Error!);
    }

    public static async Task<Results<FileContentHttpResult, ValidationProblem, ProblemHttpResult>> ReportCsv(
        string? window, string? scope, Guid? accountId, ClaimsPrincipal user, UsageService usage, CancellationToken ct)
    {
        var csv = await usage.ReportCsvAsync(user.UserId(), accountId, window, scope, ct);
        if (csv.IsSuccess)
        {
            return File(csv.Value!, window);
        }

        return ApiResults.Problem(csv.Error!).Result is ValidationProblem invalid ? invalid : (ProblemHttpResult)ApiResults.Problem(csv.Error!).Result;
    }

    public static async Task<Ok<IReadOnlyList<NodeResponse>>> Nodes(UsageService usage, BatchBackends backends, CancellationToken ct) =>
        TypedResults.Ok(await usage.NodesAsync(backends, ct));

    private static async Task<Results<Ok<UsageReportResponse>, FileContentHttpResult, ValidationProblem, ProblemHttpResult>> Csv(
        string? window, string? scope, Guid? accountId, ClaimsPrincipal user, UsageService usage, CancellationToken ct)
    {
        var csv = await usage.ReportCsvAsync(user.UserId(), accountId, window, scope, ct);
        return csv.IsSuccess ? File(csv.Value!, window) : Problem(csv.Error!);
    }

    private static FileContentHttpResult File(string csv, string? window) =>
        TypedResults.File(Encoding.UTF8.GetBytes(csv), "text/csv; charset=utf-8", $"usage-{(string.IsNullOrWhiteSpace(window) ? "week" : window.Trim().ToLowerInvariant())}.csv");

    private static Results<Ok<UsageReportResponse>, FileContentHttpResult, ValidationProblem, ProblemHttpResult> Problem(Core.Common.Error error) =>
        ApiResults.Problem(error).Result switch
        {
            ValidationProblem v => v,
            ProblemHttpResult p => p,
            _ => throw new InvalidOperationException("ApiResults.Problem gives a validation problem or a problem."),
        };
}
