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

/// <summary>Datasets: create, upload into the draft, list and download files of any version, publish, delete.</summary>
public static class DatasetsApi
{
    public static RouteGroupBuilder MapDatasetsApi(this RouteGroupBuilder api)
    {
        var datasets = api.MapGroup("/datasets").WithTags("Datasets");
        datasets.MapGet("/", List).WithSummary("Datasets of your accounts, paged, with search on name, description and tags.");
        datasets.MapPost("/", Create).WithSummary("Create a dataset (members and masters) in the given or current account.");
        datasets.MapGet("/{datasetId:guid}", Get);
        datasets.MapDelete("/{datasetId:guid}", Delete).WithSummary("Delete the dataset and every version; its storage is freed at once.");
        datasets.MapPut("/{datasetId:guid}/draft/files/{**path}", Upload)
            .WithMetadata(new DisableRequestSizeLimitAttribute())
            // Any content type: browsers send the file's own (text/csv, image/png); the body is stored as it is.
            .Accepts<Stream>("application/octet-stream", "*/*")
            .WithSummary("Upload one file into the draft (the body is the file); replaces a file at the same path.");
        datasets.MapPost("/{datasetId:guid}/draft/publish", Publish).WithSummary("Freeze the draft as the next version, with its manifest.");
        datasets.MapGet("/{datasetId:guid}/versions/{version}/files", ListFiles)
            .WithSummary("Files of a version ('draft', 'latest' or a number) in path order; pass 'next' as 'after' for the next page.");
        datasets.MapGet("/{datasetId:guid}/versions/{version}/files/{**path}", Download).WithSummary("Download a file; supports Range.");
        datasets.MapDelete("/{datasetId:guid}/versions/{version}", DeleteVersion).WithSummary("Delete a published version; unshared storage is freed.");
        datasets.MapGet("/{datasetId:guid}/shares", ListShares).WithSummary("Who the dataset is shared with (members of the owning account).");
        datasets.MapPost("/{datasetId:guid}/shares", Share).WithSummary("Share read or write with a user (by e-mail) or an account.");
        datasets.MapDelete("/{datasetId:guid}/shares/{shareId:guid}", RevokeShare).WithSummary("Revoke a share; it stops working at once.");
        datasets.MapPut("/{datasetId:guid}/public", (Guid datasetId, ClaimsPrincipal user, DatasetService d, CancellationToken ct) => SetPublic(datasetId, true, user, d, ct))
            .WithSummary("Publish the dataset to the public catalog: readable by every signed-in user.");
        datasets.MapDelete("/{datasetId:guid}/public", (Guid datasetId, ClaimsPrincipal user, DatasetService d, CancellationToken ct) => SetPublic(datasetId, false, user, d, ct))
            .WithSummary("Take the dataset out of the public catalog.");
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
        Guid datasetId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.GetAsync(user.UserId(), datasetId, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(
        Guid datasetId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.NoContent(await datasets.DeleteAsync(user.UserId(), datasetId, ct));

    public static async Task<Results<Ok<DatasetFileResponse>, ValidationProblem, ProblemHttpResult>> Upload(
        Guid datasetId, string path, HttpRequest request, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct)
    {
        try
        {
            var result = await datasets.UploadAsync(user.UserId(), datasetId, Uri.UnescapeDataString(path), request.Body, request.ContentLength, ct);
            if (!result.IsSuccess && result.Error!.Fields?.ContainsKey("quota") == true)
            {
                return TypedResults.Problem(result.Error.Message, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Storage quota exceeded");
            }

            return ApiResults.Ok(result);
        }
        catch (IOException ex) when (!ct.IsCancellationRequested)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Upload incomplete");
        }
    }

    public static async Task<Results<Ok<VersionSummary>, ValidationProblem, ProblemHttpResult>> Publish(
        Guid datasetId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.PublishAsync(user.UserId(), datasetId, ct));

    public static async Task<Results<Ok<FilePage>, ValidationProblem, ProblemHttpResult>> ListFiles(
        Guid datasetId, string version, string? prefix, string? after, int? limit, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.ListFilesAsync(user.UserId(), datasetId, version, prefix, after, limit, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteVersion(
        Guid datasetId, string version, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.NoContent(await datasets.DeleteVersionAsync(user.UserId(), datasetId, version, ct));

    public static async Task<Results<Ok<DatasetResponse>, ValidationProblem, ProblemHttpResult>> SetPublic(
        Guid datasetId, bool isPublic, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.SetPublicAsync(user.UserId(), datasetId, isPublic, ct));

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

    public static async Task<Results<Ok<IReadOnlyList<ShareResponse>>, ValidationProblem, ProblemHttpResult>> ListShares(
        Guid datasetId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.ListSharesAsync(user.UserId(), datasetId, ct));

    public static async Task<Results<Created<ShareResponse>, ValidationProblem, ProblemHttpResult>> Share(
        Guid datasetId, CreateShareRequest request, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Created(await datasets.ShareAsync(user.UserId(), datasetId, request, ct), s => $"/api/v1/datasets/{datasetId}/shares/{s.Id}");

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RevokeShare(
        Guid datasetId, Guid shareId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.NoContent(await datasets.RevokeShareAsync(user.UserId(), datasetId, shareId, ct));

    public static async Task<Results<Ok<StorageUsage>, ValidationProblem, ProblemHttpResult>> Usage(
        Guid accountId, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct) =>
        ApiResults.Ok(await datasets.UsageAsync(user.UserId(), accountId, ct));

    /// <summary>
    /// Streams the file; a single "bytes=a-b" or "bytes=a-" range gives 206. Served as an attachment with
    /// nosniff, so user content is never rendered as a page of ours.
    /// </summary>
    public static async Task<IResult> Download(
        Guid datasetId, string version, string path, HttpContext http, ClaimsPrincipal user, DatasetService datasets, CancellationToken ct)
    {
        var range = ParseRange(http.Request.Headers.Range.ToString());
        var opened = await datasets.OpenFileAsync(user.UserId(), datasetId, version, Uri.UnescapeDataString(path), range, ct);
        if (!opened.IsSuccess)
        {
            return opened.Error!.Fields?.ContainsKey("range") == true
                ? TypedResults.Problem(opened.Error.Message, statusCode: StatusCodes.Status416RangeNotSatisfiable, title: "Range not satisfiable")
                : ApiResults.Problem(opened.Error);
        }

        var (file, reader) = (opened.Value!.File, opened.Value.Reader);
        http.Response.RegisterForDisposeAsync(reader);
        var headers = http.Response.Headers;
        headers.AcceptRanges = "bytes";
        headers.XContentTypeOptions = "nosniff";
        headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = Path.GetFileName(file.Path) }.ToString();
        headers.ETag = $"\"{file.Sha256}\"";
        if (range is not null)
        {
            http.Response.StatusCode = StatusCodes.Status206PartialContent;
            headers.ContentRange = $"bytes {reader.Offset}-{reader.Offset + reader.Length - 1}/{file.Size}";
        }

        http.Response.ContentLength = reader.Length;
        http.Response.ContentType = "application/octet-stream";
        await reader.Content.CopyToAsync(http.Response.Body, 128 * 1024, ct);
        return Results.Empty;
    }

    /// <summary>One "bytes=a-b" or "bytes=a-" range; anything else (several ranges, suffixes) gets the whole file, as HTTP allows.</summary>
    private static ByteRange? ParseRange(string header) =>
        RangeHeaderValue.TryParse(header, out var parsed) && parsed.Unit == "bytes" && parsed.Ranges.Count == 1
            && parsed.Ranges.First() is { From: { } from } only
            ? new ByteRange(from, only.To)
            : null;
}
