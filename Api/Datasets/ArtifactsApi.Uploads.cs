using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Datasets;

namespace Platform.Api.Datasets;

/// <summary>
/// Resumable uploads into the draft (for files larger than a part; small files use one PUT): start with the path and
/// size (refused with 413 before any byte when over the quota), send the parts in any order and again after a drop,
/// ask which parts arrived, complete (size and SHA-256 verified) or cancel.
/// </summary>
public static partial class ArtifactsApi
{
    public static RouteGroupBuilder MapUploadRoutes<TService>(this RouteGroupBuilder group)
        where TService : ArtifactService
    {
        group.MapPost("/{id:guid}/draft/uploads", StartUpload<TService>)
            .WithSummary("Start a resumable upload of one file (path, size, optional sha256); over the quota is 413 before any byte.");
        group.MapGet("/{id:guid}/draft/uploads/{uploadId:guid}", GetUpload<TService>)
            .WithSummary("An open upload and the parts received so far: send only the others to resume.");
        group.MapPut("/{id:guid}/draft/uploads/{uploadId:guid}/parts/{number:int}", UploadPart<TService>)
            // The part's own length is the limit, checked in the handler (the body may be up to 64 MiB).
            .WithMetadata(new DisableRequestSizeLimitAttribute())
            .Accepts<Stream>("application/octet-stream", "*/*")
            .WithSummary("Send part 'number' (from 1); exactly partSize bytes, the last one the rest. Sending it again replaces it.");
        group.MapPost("/{id:guid}/draft/uploads/{uploadId:guid}/complete", CompleteUpload<TService>)
            .WithSummary("Join the parts, verify size and SHA-256, and put the file into the draft.");
        group.MapDelete("/{id:guid}/draft/uploads/{uploadId:guid}", AbortUpload<TService>)
            .WithSummary("Cancel an upload; its parts are deleted.");
        return group;
    }

    public static async Task<Results<Created<UploadResponse>, ValidationProblem, ProblemHttpResult>> StartUpload<TService>(
        Guid id, StartUploadRequest request, HttpContext http, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService
    {
        var result = await artifacts.StartUploadAsync(user.UserId(), id, request, ct);
        return !result.IsSuccess && result.Error!.Fields?.ContainsKey("quota") == true
            ? QuotaProblem(result.Error)
            : ApiResults.Created(result, u => $"{http.Request.Path}/{u.UploadId}");
    }

    public static async Task<Results<Ok<UploadResponse>, ValidationProblem, ProblemHttpResult>> GetUpload<TService>(
        Guid id, Guid uploadId, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.GetUploadAsync(user.UserId(), id, uploadId, ct));

    /// <summary>
    /// Streams the part to the store. The body may be no longer than the part (Kestrel cuts it off beyond); a declared
    /// length other than the part's is refused before reading, and a body that ends early is 400 with the upload as it was.
    /// </summary>
    public static async Task<Results<Ok<UploadPartResponse>, ValidationProblem, ProblemHttpResult>> UploadPart<TService>(
        Guid id, Guid uploadId, int number, HttpRequest request, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = UploadLimits.MaxPartSize;
        }

        try
        {
            return ApiResults.Ok(await artifacts.UploadPartAsync(user.UserId(), id, uploadId, number, request.Body, request.ContentLength, ct));
        }
        catch (IOException ex) when (!ct.IsCancellationRequested)
        {
            return TypedResults.Problem($"{ex.Message} The upload keeps its other parts.", statusCode: StatusCodes.Status400BadRequest, title: "Part incomplete");
        }
    }

    public static async Task<Results<Ok<DatasetFileResponse>, ValidationProblem, ProblemHttpResult>> CompleteUpload<TService>(
        Guid id, Guid uploadId, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.Ok(await artifacts.CompleteUploadAsync(user.UserId(), id, uploadId, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> AbortUpload<TService>(
        Guid id, Guid uploadId, ClaimsPrincipal user, TService artifacts, CancellationToken ct)
        where TService : ArtifactService =>
        ApiResults.NoContent(await artifacts.AbortUploadAsync(user.UserId(), id, uploadId, ct));

    /// <summary>413 with the numbers: the file's size, the bytes left and the quota.</summary>
    private static ProblemHttpResult QuotaProblem(Error error)
    {
        var numbers = new Dictionary<string, object?>();
        foreach (var name in new[] { "sizeBytes", "leftBytes", "quotaBytes" })
        {
            if (error.Fields!.TryGetValue(name, out var value) && long.TryParse(value[0], CultureInfo.InvariantCulture, out var n))
            {
                numbers[name] = n;
            }
        }

        return TypedResults.Problem(error.Message, statusCode: StatusCodes.Status413PayloadTooLarge, title: "Storage quota exceeded", extensions: numbers);
    }
}
