using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Core.Common;

namespace Platform.Api.Infrastructure;

/// <summary>Turns Core's expected failures into ProblemDetails: validation 400 with field errors, then 403, 404, 409.</summary>
public static class ApiResults
{
    public static Results<ValidationProblem, ProblemHttpResult> Problem(Error error) => error.Kind switch
    {
        ErrorKind.Validation => TypedResults.ValidationProblem(
            error.Fields ?? new Dictionary<string, string[]>(), detail: error.Message, title: "The request is not valid."),
        ErrorKind.NotFound => TypedResults.Problem(error.Message, statusCode: StatusCodes.Status404NotFound, title: "Not found"),
        ErrorKind.Forbidden => TypedResults.Problem(error.Message, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden"),
        ErrorKind.Conflict => TypedResults.Problem(error.Message, statusCode: StatusCodes.Status409Conflict, title: "Conflict"),
        _ => throw new ArgumentOutOfRangeException(nameof(error), error.Kind, "unknown error kind"),
    };

    public static Results<Ok<T>, ValidationProblem, ProblemHttpResult> Ok<T>(Result<T> result) =>
        result.IsSuccess ? TypedResults.Ok(result.Value!) : Unwrap<Ok<T>>(Problem(result.Error!));

    public static Results<NoContent, ValidationProblem, ProblemHttpResult> NoContent(Result result) =>
        result.IsSuccess ? TypedResults.NoContent() : Unwrap<NoContent>(Problem(result.Error!));

    public static Results<Created<T>, ValidationProblem, ProblemHttpResult> Created<T>(Result<T> result, Func<T, string> location) =>
        result.IsSuccess ? TypedResults.Created(location(result.Value!), result.Value!) : Unwrap<Created<T>>(Problem(result.Error!));

    private static Results<TSuccess, ValidationProblem, ProblemHttpResult> Unwrap<TSuccess>(Results<ValidationProblem, ProblemHttpResult> problem)
        where TSuccess : IResult =>
        problem.Result switch
        {
            ValidationProblem v => v,
            ProblemHttpResult p => p,
            _ => throw new InvalidOperationException("unexpected problem result"),
        };
}
