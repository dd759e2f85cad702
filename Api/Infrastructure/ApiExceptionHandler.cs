using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Platform.Api.Infrastructure;

/// <summary>
/// The one place real exceptions become ProblemDetails: unreadable bodies keep their 4xx, concurrency conflicts
/// are 409, an unreachable database is 503, anything else a 500 with a trace id and no internals.
/// </summary>
public sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            BadHttpRequestException bad => (bad.StatusCode, bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "Request body too large" : "Bad request", bad.Message),
            DbUpdateConcurrencyException => (StatusCodes.Status409Conflict, "Conflict", "Someone else changed this at the same time; reload and try again."),
            Npgsql.NpgsqlException { IsTransient: true } or TimeoutException =>
                (StatusCodes.Status503ServiceUnavailable, "Service unavailable", "The database did not answer in time; try again shortly."),
            _ => (StatusCodes.Status500InternalServerError, "Internal server error", "Something went wrong on our side; quote the trace id when reporting it."),
        };
        if (status >= 500)
        {
            logger.LogError(exception, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        }

        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
