using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Metrics;

namespace Platform.Api.Metrics;

/// <summary>
/// Training boards' runs: create (a job's, or an experiment), list, read, post points (idempotent per series and step),
/// declare graphs, finish, delete, read a range (raw or downsampled) and export. Reading: the owner and masters of the
/// run's account; writing: the owner or the run's own job key; for anyone else a run does not exist (404).
/// </summary>
public static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("Runs");
        runs.MapPost("/", Create).WithSummary("A job's run (made on first use, named after the job; with a job key jobId defaults to that job) or a new experiment run.");
        runs.MapGet("/", List).WithSummary("The caller's runs (scope=me) or those of the accounts they master (scope=account), filtered by kind, state and name, newest activity first.");
        runs.MapGet("/{runId:guid}", Get).WithSummary("The run with its series (counters, last values) and graphs.");
        runs.MapGet("/by-job/{jobId:guid}", ByJob).WithSummary("The run of a job (404 when the job logged no metric).");
        runs.MapPost("/{runId:guid}/points", Ingest).WithSummary(
            "Add a batch of points (≤ 10,000; values are numbers or \"NaN\", \"Infinity\", \"-Infinity\"; at in Unix seconds). A point already stored (same series and step) is counted as a duplicate, never stored twice.");
        runs.MapPost("/{runId:guid}/graphs", Graph).WithSummary("Declare (or replace) the graph with this title and the series it groups (draw_board).");
        runs.MapPost("/{runId:guid}/finish", Finish).WithSummary("Mark the run finished (points posted later open it again).");
        runs.MapDelete("/{runId:guid}", Delete).WithSummary("Delete the run with its series, points and rollups (its owner or a master of its account).");
        runs.MapGet("/{runId:guid}/points", Points).WithSummary(
            "Points of some series (all by default) in [from, to]: raw (level 0) or, when more than maxPoints, rollup buckets of 2^level steps with mean, min and max.");
        runs.MapGet("/{runId:guid}/export", Export).WithSummary("The run's points streamed as CSV (series,step,time,value) or JSON.")
            .Produces(StatusCodes.Status200OK, contentType: "text/csv").Produces(StatusCodes.Status200OK, contentType: "application/json");
        return api;
    }

    public static async Task<Results<Created<RunResponse>, Ok<RunResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateRunRequest? request, ClaimsPrincipal user, RunService runs, CancellationToken ct)
    {
        var result = await runs.CreateAsync(user.UserId(), KeyJob(user), KeyAccount(user), request ?? new CreateRunRequest(null, null), ct);
        if (result.Error is { } error)
        {
            return ApiResults.Problem(error).Result switch
            {
                ValidationProblem v => v,
                ProblemHttpResult p => p,
                _ => throw new InvalidOperationException("unexpected problem result"),
            };
        }

        var (run, created) = result.Value;
        return created ? TypedResults.Created($"/api/v1/runs/{run.Id}", run) : TypedResults.Ok(run);
    }

    public static async Task<Results<Ok<PagedResponse<RunSummary>>, ValidationProblem, ProblemHttpResult>> List(
        string? scope, string? kind, string? state, string? q, int? page, int? pageSize, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
        ApiResults.Ok(await runs.ListAsync(user.UserId(), scope, kind, state, q, page, pageSize, ct));

    public static async Task<Results<Ok<RunResponse>, ValidationProblem, ProblemHttpResult>> Get(
        Guid runId, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
        ApiResults.Ok(await runs.GetAsync(user.UserId(), runId, ct));

    public static async Task<Results<Ok<RunResponse>, ValidationProblem, ProblemHttpResult>> ByJob(
        Guid jobId, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
        ApiResults.Ok(await runs.ByJobAsync(user.UserId(), jobId, ct));

    public static async Task<Results<Ok<IngestResponse>, ValidationProblem, ProblemHttpResult>> Ingest(
        Guid runId, IngestRequest request, ClaimsPrincipal user, MetricIngestion ingestion, CancellationToken ct) =>
        ApiResults.Ok(await ingestion.IngestAsync(user.UserId(), KeyJob(user), runId, request, ct));

    public static async Task<Results<Ok<GraphResponse>, ValidationProblem, ProblemHttpResult>> Graph(
        Guid runId, GraphRequest request, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
        ApiResults.Ok(await runs.UpsertGraphAsync(user.UserId(), KeyJob(user), runId, request, ct));

    public static async Task<Results<Ok<RunResponse>, ValidationProblem, ProblemHttpResult>> Finish(
        Guid runId, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
        ApiResults.Ok(await runs.FinishAsync(user.UserId(), KeyJob(user), runId, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(
        Guid runId, ClaimsPrincipal user, RunService runs, CancellationToken ct) =>
        ApiResults.NoContent(await runs.DeleteAsync(user.UserId(), runId, ct));

    public static async Task<Results<Ok<PointsResponse>, ValidationProblem, ProblemHttpResult>> Points(
        Guid runId, [FromQuery] string[]? series, long? from, long? to, int? maxPoints, ClaimsPrincipal user, MetricReads reads, CancellationToken ct) =>
        ApiResults.Ok(await reads.PointsAsync(user.UserId(), runId, series, from, to, maxPoints, ct));

    public static async Task<IResult> Export(
        Guid runId, string? format, [FromQuery] string[]? series, ClaimsPrincipal user, MetricReads reads, CancellationToken ct)
    {
        var plan = await reads.PlanExportAsync(user.UserId(), runId, format, series, ct);
        if (plan.Error is { } error)
        {
            return ApiResults.Problem(error);
        }

        var p = plan.Value!;
        var fileName = $"run-{p.Run.Id}.{(p.Json ? "json" : "csv")}";
        return Results.Stream(stream => reads.ExportAsync(p, stream, ct), p.Json ? "application/json" : "text/csv; charset=utf-8", fileName);
    }

    private static Guid? KeyJob(ClaimsPrincipal user) => Guid.TryParse(user.FindFirstValue(PlatformClaims.Job), out var id) ? id : null;

    private static Guid? KeyAccount(ClaimsPrincipal user) => Guid.TryParse(user.FindFirstValue(PlatformClaims.Account), out var id) ? id : null;
}
