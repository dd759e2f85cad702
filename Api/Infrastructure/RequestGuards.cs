using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Platform.Api.Authentication;

namespace Platform.Api.Infrastructure;

/// <summary>
/// Refuses bodies over the endpoint's limit (1 MiB unless an endpoint says otherwise) before reading them, with a
/// ProblemDetails 413. Kestrel enforces the same limit on chunked bodies as they stream in.
/// </summary>
public sealed class RequestSizeGuard(RequestDelegate next, IProblemDetailsService problems)
{
    public const long DefaultLimit = 1024 * 1024;

    public async Task InvokeAsync(HttpContext context)
    {
        // No metadata: the default. Metadata with no size (DisableRequestSizeLimit, for uploads): no limit at all.
        var declared = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>();
        var limit = declared is null ? DefaultLimit : declared.MaxRequestBodySize;
        if (context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } kestrel)
        {
            kestrel.MaxRequestBodySize = limit;
        }

        if (limit is { } max && context.Request.ContentLength is { } length && length > max)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status413PayloadTooLarge,
                    Title = "Request body too large",
                    Detail = $"The body is {length} bytes; this endpoint accepts at most {max} bytes.",
                },
            });
            return;
        }

        await next(context);
    }
}

/// <summary>
/// A read-scoped access key may only read: anything but GET, HEAD and OPTIONS is refused with 403. Hubs are the
/// exception: SignalR negotiates and sends with POST, and the live hub only lets a client watch what it may read.
/// </summary>
public sealed class ReadOnlyKeyGuard(RequestDelegate next, IProblemDetailsService problems)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var scope = context.User.FindFirst(PlatformClaims.KeyScope)?.Value;
        if (scope == "read" && !context.Request.Path.StartsWithSegments("/hubs") && !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method)))
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = new ProblemDetails
                {
                    Status = StatusCodes.Status403Forbidden,
                    Title = "Forbidden",
                    Detail = "This access key is read-only; use a key with full scope to make changes.",
                },
            });
            return;
        }

        await next(context);
    }
}
