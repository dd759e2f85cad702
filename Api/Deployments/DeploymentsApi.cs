using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Deployments;

namespace Platform.Api.Deployments;

/// <summary>
/// Deployments of catalog modules: create (it starts), list, get, stop, start, delete, events, and the spec a request
/// would submit, and shares. The owner does everything; users it is shared with read it, masters of its account read
/// and stop it (anything else is 403 for them); for anyone else it does not exist (404). No response carries the
/// password or the workload's token.
/// </summary>
public static class DeploymentsApi
{
    public static RouteGroupBuilder MapDeploymentsApi(this RouteGroupBuilder api)
    {
        var deployments = api.MapGroup("/deployments").WithTags("Deployments");
        deployments.MapGet("/", List).WithSummary(
            "Your deployments and those shared with you, newest first, paged; scope=mine|shared|account (all in the accounts you are master of).");
        deployments.MapPost("/", Create).WithSummary("Deploy a catalog module (members and masters of the account); Workers start it at once.");
        deployments.MapPost("/spec", Spec).WithSummary("The exact spec a create request would submit to the backend, secrets left out; nothing is created.");
        deployments.MapGet("/{deploymentId:guid}", Get);
        deployments.MapDelete("/{deploymentId:guid}", Delete).WithSummary("Stop the deployment and remove its workspace.");
        deployments.MapPost("/{deploymentId:guid}/stop", Stop).WithSummary("Stop the deployment; its workspace is kept.");
        deployments.MapPost("/{deploymentId:guid}/start", Start).WithSummary("Start a stopped deployment, or run a failed one again.");
        deployments.MapGet("/{deploymentId:guid}/events", Events).WithSummary("What was asked and what happened, oldest first, paged.");
        deployments.MapGet("/{deploymentId:guid}/shares", ListShares).WithSummary("The users the deployment is shared with (its owner only).");
        deployments.MapPost("/{deploymentId:guid}/shares", Share).WithSummary("Share with a user by e-mail: they may open the IDE and read the deployment, not change it.");
        deployments.MapDelete("/{deploymentId:guid}/shares/{userId:guid}", Unshare).WithSummary("Stop sharing with a user; it takes effect at their next request.");
        return api;
    }

    public static async Task<Results<Ok<PagedResponse<DeploymentResponse>>, ValidationProblem, ProblemHttpResult>> List(
        string? scope, int? page, int? pageSize, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Ok(await deployments.ListAsync(user.UserId(), scope, page, pageSize, ct));

    public static async Task<Results<Created<DeploymentResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateDeploymentRequest request, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Created(await deployments.CreateAsync(user.UserId(), request, ct), d => $"/api/v1/deployments/{d.Id}");

    public static async Task<Results<Ok<DeploymentSpecResponse>, ValidationProblem, ProblemHttpResult>> Spec(
        CreateDeploymentRequest request, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Ok(await deployments.SpecAsync(user.UserId(), request, ct));

    public static async Task<Results<Ok<DeploymentResponse>, ValidationProblem, ProblemHttpResult>> Get(
        Guid deploymentId, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Ok(await deployments.GetAsync(user.UserId(), deploymentId, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(
        Guid deploymentId, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.NoContent(await deployments.DeleteAsync(user.UserId(), deploymentId, ct));

    public static async Task<Results<Ok<DeploymentResponse>, ValidationProblem, ProblemHttpResult>> Stop(
        Guid deploymentId, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Ok(await deployments.StopAsync(user.UserId(), deploymentId, ct));

    public static async Task<Results<Ok<DeploymentResponse>, ValidationProblem, ProblemHttpResult>> Start(
        Guid deploymentId, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Ok(await deployments.StartAsync(user.UserId(), deploymentId, ct));

    public static async Task<Results<Ok<PagedResponse<DeploymentEventResponse>>, ValidationProblem, ProblemHttpResult>> Events(
        Guid deploymentId, int? page, int? pageSize, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Ok(await deployments.EventsAsync(user.UserId(), deploymentId, page, pageSize, ct));

    public static async Task<Results<Ok<IReadOnlyList<DeploymentShareResponse>>, ValidationProblem, ProblemHttpResult>> ListShares(
        Guid deploymentId, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Ok(await deployments.ListSharesAsync(user.UserId(), deploymentId, ct));

    public static async Task<Results<Created<DeploymentShareResponse>, ValidationProblem, ProblemHttpResult>> Share(
        Guid deploymentId, CreateDeploymentShareRequest request, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.Created(await deployments.ShareAsync(user.UserId(), deploymentId, request, ct),
            s => $"/api/v1/deployments/{deploymentId}/shares/{s.UserId}");

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Unshare(
        Guid deploymentId, Guid userId, ClaimsPrincipal user, DeploymentService deployments, CancellationToken ct) =>
        ApiResults.NoContent(await deployments.UnshareAsync(user.UserId(), deploymentId, userId, ct));
}
