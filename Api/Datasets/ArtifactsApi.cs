using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Core.Storage;

namespace Platform.Api.Datasets;

/// <summary>
/// The routes datasets and models share (one artifact machinery): delete, upload into the draft, publish, list and
/// download files of any version, delete a version, shares and the public catalog flag. Mapped once per kind under
/// its own group (/datasets, /models) with the kind's service.
/// </summary>
public static partial class ArtifactsApi
{
    public static RouteGroupBuilder MapArtifactRoutes<TService>(this RouteGroupBuilder group, string noun)
        where TService : ArtifactService
    {
        group.MapDelete("/{id:guid}", Delete<TService>).WithSummary($"Delete the {noun} and every version; its storage is freed at once.");
        group.MapPut("/{id:guid}/draft/files/{**path}", Upload<TService>)
            .WithMetadata(new DisableRequestSizeLimitAttribute())
            // Any content type: browsers send the file's own (text/csv, image/png); the body is stored as it is.
            .Accepts<Stream>("application/octet-stream", "*/*")
            .WithSummary("Upload one file into the draft (the body is the file); replaces a file at the same path.");
        group.MapDelete("/{id:guid}/draft/files/{**path}", DeleteDraftFile<TService>)
            .WithSummary("Remove a file from the draft; published versions keep theirs. Storage no version uses is freed.");
        group.MapPost("/{id:guid}/draft/publish", Publish<TService>).WithSummary("Freeze the draft as the next version, with its manifest.");
        group.MapGet("/{id:guid}/versions/{version}/files", ListFiles<TService>)
            .WithSummary("Files of a version ('draft', 'latest', a number or an alias) in path order; pass 'next' as 'after' for the next page.");
        group.MapGet("/{id:guid}/versions/{version}/files/{**path}", Download<TService>)
            .WithSummary("Download a file; supports Range. With redirect=true and an S3 store: 302 to a presigned link valid 60 seconds.");
        group.MapVersionRoutes<TService>();
        group.MapDelete("/{id:guid}/versions/{version}", DeleteVersion<TService>).WithSummary("Delete a published version; unshared storage is freed.");
        group.MapGet("/{id:guid}/shares", ListShares<TService>).WithSummary($"Who the {noun} is shared with (members of the owning account).");
        group.MapPost("/{id:guid}/shares", Share<TService>).WithSummary("Share read or write with a user (by e-mail) or an account.");
        group.MapDelete("/{id:guid}/shares/{shareId:guid}", RevokeShare<TService>).WithSummary("Revoke a share; it stops working at once.");
        group.MapPut("/{id:guid}/public", (Guid id, ClaimsPrincipal user, TService s, CancellationToken ct) => SetPublic(id, true, user, s, ct))
            .WithSummary($"Publish the {noun} to the public catalog: readable by every signed-in user.");
        group.MapDelete("/{id:guid}/public", (Guid id, ClaimsPrincipal user, TService s, CancellationToken ct) => SetPublic(id, false, user, s, ct))
            .WithSummary("Take it out of the public catalog.");
        group.MapBrowseRoutes<TService>();
        group.MapUploadRoutes<TService>();
        return group;
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete<TService>(
        Guid id, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.NoContent(await artifacts.DeleteAsync(user.UserId(), id, ct));

    public static async Task<Results<Ok<DatasetFileResponse>, ValidationProblem, ProblemHttpResult>> Upload<TService>(
        Guid id, string path, HttpRequest request, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService
    {
        try
        {
            var result = await artifacts.UploadAsync(user.UserId(), id, Uri.UnescapeDataString(path), request.Body, request.ContentLength, ct);
            if (!result.IsSuccess && result.Error!.Fields?.ContainsKey("quota") == true)
            {
                return QuotaProblem(result.Error);
            }

            return ApiResults.Ok(result);
        }
        catch (IOException ex) when (!ct.IsCancellationRequested)
        {
            return TypedResults.Problem(ex.Message, statusCode: StatusCodes.Status400BadRequest, title: "Upload incomplete");
        }
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteDraftFile<TService>(
        Guid id, string path, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.NoContent(await artifacts.DeleteDraftFileAsync(user.UserId(), id, Uri.UnescapeDataString(path), ct));

    public static async Task<Results<Ok<VersionSummary>, ValidationProblem, ProblemHttpResult>> Publish<TService>(
        Guid id, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.PublishAsync(user.UserId(), id, ct));

    public static async Task<Results<Ok<FilePage>, ValidationProblem, ProblemHttpResult>> ListFiles<TService>(
        Guid id, string version, string? prefix, string? after, int? limit, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.ListFilesAsync(user.UserId(), id, version, prefix, after, limit, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteVersion<TService>(
        Guid id, string version, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.NoContent(await artifacts.DeleteVersionAsync(user.UserId(), id, version, ct));

    public static async Task<Results<Ok<DatasetResponse>, ValidationProblem, ProblemHttpResult>> SetPublic<TService>(
        Guid id, bool isPublic, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.SetPublicAsync(user.UserId(), id, isPublic, ct));

    public static async Task<Results<Ok<IReadOnlyList<ShareResponse>>, ValidationProblem, ProblemHttpResult>> ListShares<TService>(
        Guid id, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.ListSharesAsync(user.UserId(), id, ct));

    public static async Task<Results<Created<ShareResponse>, ValidationProblem, ProblemHttpResult>> Share<TService>(
        Guid id, CreateShareRequest request, HttpContext http, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Created(await artifacts.ShareAsync(user.UserId(), id, request, ct), s => $"{http.Request.Path}/{s.Id}");

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RevokeShare<TService>(
        Guid id, Guid shareId, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.NoContent(await artifacts.RevokeShareAsync(user.UserId(), id, shareId, ct));

    /// <summary>
    /// Streams the file; a single "bytes=a-b" or "bytes=a-" range gives 206. Served as an attachment with
    /// nosniff, so user content is never rendered as a page of ours; <c>inline=true</c> is honoured for verified raster
    /// images only (<see cref="SetDisposition"/>).
    /// </summary>
    public static async Task<IResult> Download<TService>(
        Guid id, string version, string path, bool? redirect, bool? inline, HttpContext http, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService
    {
        if (redirect == true)
        {
            // S3: send the client straight to the store with a link that lives a minute; other stores stream below.
            var presigned = await artifacts.PresignFileAsync(user.UserId(), id, version, Uri.UnescapeDataString(path), ct);
            if (!presigned.IsSuccess)
            {
                return ApiResults.Problem(presigned.Error!);
            }

            if (presigned.Value is { } url)
            {
                http.Response.Headers.CacheControl = "no-store";
                return TypedResults.Redirect(url.AbsoluteUri);
            }
        }

        var range = ParseRange(http.Request.Headers.Range.ToString());
        var opened = await artifacts.OpenFileAsync(user.UserId(), id, version, Uri.UnescapeDataString(path), range, ct);
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
        var imageType = inline == true ? await artifacts.InlineImageTypeAsync(user.UserId(), id, version, file.Path, ct) : null;
        SetDisposition(http.Response, file.Path, imageType);
        headers.ETag = $"\"{file.Sha256}\"";
        if (range is not null)
        {
            http.Response.StatusCode = StatusCodes.Status206PartialContent;
            headers.ContentRange = $"bytes {reader.Offset}-{reader.Offset + reader.Length - 1}/{file.Size}";
        }

        http.Response.ContentLength = reader.Length;
        http.Response.ContentType = imageType ?? "application/octet-stream";
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
