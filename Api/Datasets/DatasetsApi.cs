using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Core.Storage;

namespace Platform.Api.Datasets;

/// <summary>Datasets: create, list, get and the catalog; files, versions and shares come from <see cref="ArtifactsApi"/>.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var datasets = api.MapGroup("/datasets").WithTags("Datasets");
        datasets.MapGet("/", List).WithSummary("Datasets of your accounts, paged, with search on name, description and tags.");
        datasets.MapPost("/", Create).WithSummary("Create a dataset (members and masters) in the given or current account.");
        datasets.MapGet("/{id:guid}", Get);
        datasets.MapArtifactRoutes<DatasetService>("dataset");
        api.MapGet("/catalog/datasets", Catalog).AllowAnonymous().WithTags("Datasets")
            .WithSummary("The public catalog. Needs sign-in unless an admin allows visitors to browse it.");
        api.MapGet("/accounts/{accountId:guid}/storage", Usage).WithTags("Datasets").WithSummary("Bytes the account keeps, and its quota.");
        return api;
    }

    public static async Task<Ok<PagedResponse<DatasetResponse>>> List(
        int? page, int? pageSize, string? search, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        TypedResults.Ok(await datasets.ListAsync(user.UserId(), page, pageSize, search, ct));

    public static async Task<Results<Created<DatasetResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateDatasetRequest request, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Created(await datasets.CreateAsync(user.UserId(), request, ct), d => $"/api/v1/datasets/{d.Id}");

    public static async Task<Results<Ok<DatasetResponse>, ValidationProblem, ProblemHttpResult>> Get(
        Guid id, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.GetAsync(user.UserId(), id, ct));

    public static async Task<Results<Ok<PagedResponse<DatasetResponse>>, ProblemHttpResult>> Catalog(
        int? page, int? pageSize, string? search, ClaimsPrincipal user, SettingsService settings, DatasetService datasets, CancellationToken ct)
    {
        if (user.Identity?.IsAuthenticated != true && !await settings.GetAnonymousCatalogAsync(ct))
        {
            return TypedResults.Problem("Sign in to browse the catalog; an admin can open it to visitors.",
                statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        return TypedResults.Ok(await datasets.CatalogAsync(page, pageSize, search, ct));
    }

    public static async Task<Results<Ok<StorageUsage>, ValidationProblem, ProblemHttpResult>> Usage(
        Guid accountId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.UsageAsync(user.UserId(), accountId, ct));

}
