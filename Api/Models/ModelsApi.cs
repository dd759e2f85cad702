using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Datasets;
using Platform.Api.Infrastructure;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Models;

namespace Platform.Api.Models;

/// <summary>
/// Models: create, list, get, change metadata, aliases, resolve a "name@alias" reference and the catalog. Files,
/// versions, shares, publishing and deleting are the routes every artifact kind shares (<see cref="ArtifactsApi"/>),
/// and every version reference there also takes an alias.
/// </summary>
public static class ModelsApi
{
    public static RouteGroupBuilder MapModelsApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Models");
        models.MapGet("/", List).WithSummary("Models of your accounts and shared with you, paged, with search and a framework filter.");
        models.MapPost("/", Create).WithSummary("Create a model (members and masters) with its metadata, in the given or current account.");
        models.MapGet("/resolve", Resolve)
            .WithSummary("Resolve 'name', 'name@3', 'name@production' or 'name@latest' among the models you can read; your accounts' come first.");
        models.MapGet("/{id:guid}", Get);
        models.MapPatch("/{id:guid}", Update).WithSummary("Change metadata: fields left out stay; \"\" clears a text, null a schema or the metrics.");
        models.MapPut("/{id:guid}/aliases/{alias}", SetAlias).WithSummary("Point an alias (such as 'production') at a published version; moves it if set.");
        models.MapDelete("/{id:guid}/aliases/{alias}", RemoveAlias).WithSummary("Remove an alias; its version stays.");
        models.MapArtifactRoutes<ModelService>("model");
        api.MapGet("/catalog/models", Catalog).AllowAnonymous().WithTags("Models")
            .WithSummary("The public catalog of models. Needs sign-in unless an admin allows visitors to browse it.");
        return api;
    }

    public static async Task<Ok<PagedResponse<ModelResponse>>> List(
        int? page, int? pageSize, string? search, string? framework, ClaimsPrincipal user, ModelService models, CancellationToken ct) =>
        TypedResults.Ok(await models.ListModelsAsync(user.UserId(), page, pageSize, search, framework, ct));

    public static async Task<Results<Created<ModelResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateModelRequest request, ClaimsPrincipal user, ModelService models, CancellationToken ct) =>
        ApiResults.Created(await models.CreateModelAsync(user.UserId(), request, ct), m => $"/api/v1/models/{m.Id}");

    public static async Task<Results<Ok<ModelResponse>, ValidationProblem, ProblemHttpResult>> Get(
        Guid id, ClaimsPrincipal user, ModelService models, CancellationToken ct) =>
        ApiResults.Ok(await models.GetModelAsync(user.UserId(), id, ct));

    public static async Task<Results<Ok<ModelResponse>, ValidationProblem, ProblemHttpResult>> Update(
        Guid id, UpdateModelRequest request, ClaimsPrincipal user, ModelService models, CancellationToken ct) =>
        ApiResults.Ok(await models.UpdateModelAsync(user.UserId(), id, request, ct));

    public static async Task<Results<Ok<ModelResponse>, ValidationProblem, ProblemHttpResult>> SetAlias(
        Guid id, string alias, SetAliasRequest request, ClaimsPrincipal user, ModelService models, CancellationToken ct) =>
        ApiResults.Ok(await models.SetAliasAsync(user.UserId(), id, alias, request, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RemoveAlias(
        Guid id, string alias, ClaimsPrincipal user, ModelService models, CancellationToken ct) =>
        ApiResults.NoContent(await models.RemoveAliasAsync(user.UserId(), id, alias, ct));

    public static async Task<Results<Ok<ResolvedModelResponse>, ValidationProblem, ProblemHttpResult>> Resolve(
        string? @ref, Guid? accountId, ClaimsPrincipal user, ModelService models, CancellationToken ct) =>
        ApiResults.Ok(await models.ResolveAsync(user.UserId(), @ref, accountId, ct));

    public static async Task<Results<Ok<PagedResponse<ModelResponse>>, ProblemHttpResult>> Catalog(
        int? page, int? pageSize, string? search, string? framework, ClaimsPrincipal user, SettingsService settings, ModelService models,
        CancellationToken ct)
    {
        if (user.Identity?.IsAuthenticated != true && !await settings.GetAnonymousCatalogAsync(ct))
        {
            return TypedResults.Problem("Sign in to browse the catalog; an admin can open it to visitors.",
                statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        return TypedResults.Ok(await models.CatalogModelsAsync(page, pageSize, search, framework, ct));
    }
}
