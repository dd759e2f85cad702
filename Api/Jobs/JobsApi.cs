using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Core.Storage;

namespace Platform.Api.Jobs;

/// <summary>
/// Training and evaluation jobs: submit (it queues; the scheduler decides at once), get with replicas, events, stop,
/// delete once ended, clone with edits (resubmit: no edits). The owner does everything; masters of its account read, stop and clone it;
/// for anyone else it does not exist (404).
/// </summary>
public static class JobsApi
{
    public static RouteGroupBuilder MapJobsApi(this RouteGroupBuilder api)
    {
        var jobs = api.MapGroup("/jobs").WithTags("Jobs");
        jobs.MapPost("/", Submit).WithSummary("Submit a job (members and masters of the account): it is queued, then admitted and placed by the scheduler.");
        jobs.MapGet("/{jobId:guid}", Get).WithSummary("The job with its replicas; while queued, why it waits, its position and its estimated start.");
        jobs.MapGet("/{jobId:guid}/events", Events).WithSummary("What was asked and what happened, oldest first, paged.");
        jobs.MapPost("/{jobId:guid}/stop", Stop).WithSummary("Stop the job: a queued job leaves the queue, a running one has its replicas stopped.");
        jobs.MapDelete("/{jobId:guid}", Delete).WithSummary("Delete a finished job with its events, logs, run and metric points (its owner or a master); 409 while it has not ended.");
        jobs.MapPost("/{jobId:guid}/clone", Clone).WithSummary("Submit a new job from this one's spec with the edits given (none: resubmit).");
        return api;
    }

    public static async Task<Results<Created<JobResponse>, ValidationProblem, ProblemHttpResult>> Submit(
        SubmitJobRequest request, ClaimsPrincipal user, JobService jobs, CancellationToken ct) =>
        ApiResults.Created(await jobs.SubmitAsync(user.UserId(), request, ct), j => $"/api/v1/jobs/{j.Id}");

    public static async Task<Results<Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> Get(
        Guid jobId, ClaimsPrincipal user, JobService jobs, CancellationToken ct) =>
        ApiResults.Ok(await jobs.GetAsync(user.UserId(), jobId, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(
        Guid jobId, ClaimsPrincipal user, JobService jobs, IObjectStore store, CancellationToken ct) =>
        ApiResults.NoContent(await jobs.DeleteAsync(user.UserId(), jobId, store, ct));

    public static async Task<Results<Ok<PagedResponse<JobEventResponse>>, ValidationProblem, ProblemHttpResult>> Events(
        Guid jobId, int? page, int? pageSize, ClaimsPrincipal user, JobService jobs, CancellationToken ct) =>
        ApiResults.Ok(await jobs.EventsAsync(user.UserId(), jobId, page, pageSize, ct));

    public static async Task<Results<Ok<JobResponse>, ValidationProblem, ProblemHttpResult>> Stop(
        Guid jobId, ClaimsPrincipal user, JobService jobs, CancellationToken ct) =>
        ApiResults.Ok(await jobs.StopAsync(user.UserId(), jobId, ct));

    public static async Task<Results<Created<JobResponse>, ValidationProblem, ProblemHttpResult>> Clone(
        Guid jobId, CloneJobRequest? edits, ClaimsPrincipal user, JobService jobs, CancellationToken ct) =>
        ApiResults.Created(await jobs.CloneAsync(user.UserId(), jobId, edits, ct), j => $"/api/v1/jobs/{j.Id}");
}
