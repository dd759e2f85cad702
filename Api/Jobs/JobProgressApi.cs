using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Jobs;

namespace Platform.Api.Jobs;

/// <summary>
/// <c>POST /api/v1/jobs/{id}/progress</c>: what a running job reports about itself (the SDK's <c>report_progress</c>),
/// accepted only with that job's own key (<c>PLATFORM_API_KEY</c> of its replicas). Its owner signed in any other way
/// gets 403; anyone who cannot see the job 404.
/// </summary>
public static class JobProgressApi
{
    public static RouteGroupBuilder MapJobProgressApi(this RouteGroupBuilder api)
    {
        api.MapPost("/jobs/{jobId:guid}/progress", Report).WithTags("Jobs")
            .WithSummary("Report the job's progress (0 to 1) and a line of text; only with the job's own key, from inside the job.");
        return api;
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Report(
        Guid jobId, ReportProgressRequest request, ClaimsPrincipal user, JobProgress progress, CancellationToken ct)
    {
        Guid? keyJob = Guid.TryParse(user.FindFirstValue(PlatformClaims.Job), out var id) ? id : null;
        return ApiResults.NoContent(await progress.ReportAsync(user.UserId(), keyJob, jobId, request, ct));
    }
}
