using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Datasets;

namespace Platform.Api.Datasets;

public static partial class ArtifactsApi
{
    /// <summary>
    /// The published versions of an artifact with their aliases (models set them; datasets have none yet).
    /// </summary>
    public static RouteGroupBuilder MapVersionRoutes<TService>(this RouteGroupBuilder group)
        where TService : ArtifactService
    {
        group.MapGet("/{id:guid}/versions", ListVersions<TService>).WithSummary("Published versions, newest first, each with the aliases pointing to it.");
        return group;
    }

    public static async Task<Results<Ok<IReadOnlyList<VersionResponse>>, ValidationProblem, ProblemHttpResult>> ListVersions<TService>(
        Guid id, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.ListVersionsAsync(user.UserId(), id, ct));
}
