using System.Net.Http.Headers;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Datasets;

namespace Platform.Api.Datasets;

/// <summary>Browsing a version: a zip of it streamed on the fly, a preview of one file, the diff of two versions.</summary>
public static partial class ArtifactsApi
{
    public static RouteGroupBuilder MapBrowseRoutes<TService>(this RouteGroupBuilder group)
        where TService : ArtifactService
    {
        group.MapGet("/{id:guid}/versions/{version}/archive", Archive<TService>)
            .Produces(StatusCodes.Status200OK, contentType: "application/zip")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithSummary("The version (or the files under 'prefix') as one zip, streamed as it is made.");
        group.MapGet("/{id:guid}/versions/{version}/preview/{**path}", Preview<TService>)
            .WithSummary("The first rows of a CSV, TSV or JSON Lines file, the start of a text file, or an image's inline address.");
        group.MapGet("/{id:guid}/versions/{a}/diff/{b}", Diff<TService>)
            .WithSummary("Files added, removed and changed from version a to b, in path order; pass 'next' as 'after' for the next page.");
        return group;
    }

    /// <summary>
    /// Writes the zip straight to the response body: nothing is buffered, whatever the size. Errors found before the
    /// first byte are ProblemDetails; a file that cannot be read once the zip has started aborts the connection, so
    /// the client sees a broken download, never a zip that looks complete without the file.
    /// </summary>
    public static async Task<IResult> Archive<TService>(
        Guid id, string version, string? prefix, HttpContext http, ClaimsPrincipal user, TService artifacts, ILoggerFactory loggers, CancellationToken ct)
        where TService : ArtifactService
    {
        var plan = await artifacts.PlanArchiveAsync(user.UserId(), id, version, prefix, ct);
        if (!plan.IsSuccess)
        {
            return ApiResults.Problem(plan.Error!);
        }

        var headers = http.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers.ContentDisposition = new ContentDispositionHeaderValue("attachment") { FileNameStar = plan.Value!.FileName }.ToString();
        http.Response.ContentType = "application/zip";
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        try
        {
            await artifacts.WriteArchiveAsync(plan.Value, http.Response.Body, ct);
        }
        catch (IOException ex) when (!ct.IsCancellationRequested)
        {
            loggers.CreateLogger("Platform.Api.Datasets.Archive").LogError(ex, "Archive of {ArtifactId} version {Version} aborted", id, version);
            http.Abort();
        }

        return Results.Empty;
    }

    public static async Task<Results<Ok<FilePreview>, ValidationProblem, ProblemHttpResult>> Preview<TService>(
        Guid id, string version, string path, HttpContext http, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService
    {
        var preview = await artifacts.PreviewAsync(user.UserId(), id, version, Uri.UnescapeDataString(path), ct);
        if (preview.Value is { Kind: "image" } image)
        {
            // The group's own address (/api/v1/datasets or /api/v1/models) is what comes before the id.
            var requestPath = $"{http.Request.PathBase}{http.Request.Path}";
            var root = requestPath[..requestPath.IndexOf($"/{id}/", StringComparison.OrdinalIgnoreCase)];
            var escaped = string.Join('/', image.Path.Split('/').Select(Uri.EscapeDataString));
            return TypedResults.Ok(image with { Url = $"{root}/{id}/versions/{Uri.EscapeDataString(version)}/files/{escaped}?inline=true" });
        }

        return ApiResults.Ok(preview);
    }

    public static async Task<Results<Ok<VersionDiff>, ValidationProblem, ProblemHttpResult>> Diff<TService>(
        Guid id, string a, string b, string? after, int? limit, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.DiffAsync(user.UserId(), id, a, b, after, limit, ct));

    /// <summary>
    /// Inline only for a raster image whose magic bytes were checked (<paramref name="inlineImageType"/>), and then in a
    /// sandbox with no sources allowed, so even a browser that misjudged the bytes could run nothing. Everything else
    /// is an attachment.
    /// </summary>
    private static void SetDisposition(HttpResponse response, string path, string? inlineImageType)
    {
        var headers = response.Headers;
        headers.ContentDisposition = new ContentDispositionHeaderValue(inlineImageType is null ? "attachment" : "inline")
        {
            FileNameStar = Path.GetFileName(path),
        }.ToString();
        if (inlineImageType is not null)
        {
            headers.ContentSecurityPolicy = "sandbox; default-src 'none'";
        }
    }
}
