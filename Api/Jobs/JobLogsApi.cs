using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Jobs;

namespace Platform.Api.Jobs;

/// <summary>
/// A job's logs per replica, kept in the object store by Workers' shipper: the tail, what follows a chunk (long-polled
/// with <c>wait</c>, which is how the SDK and CLI follow), and the whole log as a download. Owner and masters of the
/// job's account only; for anyone else the job does not exist (404).
/// </summary>
public static class JobLogsApi
{
    public static RouteGroupBuilder MapJobLogsApi(this RouteGroupBuilder api)
    {
        var logs = api.MapGroup("/jobs/{jobId:guid}/logs").WithTags("Jobs");
        logs.MapGet("/", Read).WithSummary(
            "A replica's log (default the first trainer): the last `tail` lines (default 500), or the chunks after `after` (a seq; -1: from the start), " +
            "waiting up to `wait` seconds (≤ 30) for new ones; `next` is the seq to pass as `after` next time, `finished` says nothing more will come.");
        logs.MapGet("/download", Download).WithSummary("A replica's whole log as a text file (all chunks in order, streamed).");
        return api;
    }

    public static async Task<Results<Ok<JobLogsResponse>, ValidationProblem, ProblemHttpResult>> Read(
        Guid jobId, string? replica, int? after, int? tail, int? wait, ClaimsPrincipal user, JobLogService logs, CancellationToken ct) =>
        ApiResults.Ok(await logs.ReadAsync(user.UserId(), jobId, replica, after, tail, wait, ct));

    public static async Task<Results<PushStreamHttpResult, ValidationProblem, ProblemHttpResult>> Download(
        Guid jobId, string? replica, ClaimsPrincipal user, JobLogService logs, CancellationToken ct)
    {
        var download = await logs.DownloadAsync(user.UserId(), jobId, replica, ct);
        if (!download.IsSuccess)
        {
            return ApiResults.Problem(download.Error!).Result switch
            {
                ValidationProblem v => v,
                ProblemHttpResult p => p,
                _ => throw new InvalidOperationException("unexpected problem result"),
            };
        }

        // The scope's JobLogService outlives the handler: the stream is written before the request ends.
        return TypedResults.Stream(body => logs.WriteAsync(download.Value!, body, ct), "text/plain; charset=utf-8", download.Value!.FileName);
    }
}
