using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Notifications;

namespace Platform.Api.Notifications;

/// <summary>The caller's own preferences: whether notifications also come by e-mail.</summary>
public static class PreferencesApi
{
    public static RouteGroupBuilder MapPreferencesApi(this RouteGroupBuilder api)
    {
        var me = api.MapGroup("/me/preferences").WithTags("Me");
        me.MapGet("/", Get).WithSummary("Whether notifications (jobs starting, ending, failing) also come by e-mail.");
        me.MapPut("/", Put).WithSummary("Turn notifications by e-mail on or off.");
        return api;
    }

    public static async Task<Results<Ok<NotificationPreferences>, ValidationProblem, ProblemHttpResult>> Get(
        ClaimsPrincipal user, NotificationService notifications, CancellationToken ct) =>
        ApiResults.Ok(await notifications.GetPreferencesAsync(user.UserId(), ct));

    public static async Task<Results<Ok<NotificationPreferences>, ValidationProblem, ProblemHttpResult>> Put(
        UpdatePreferencesRequest request, ClaimsPrincipal user, NotificationService notifications, CancellationToken ct)
    {
        if (request.NotifyByEmail is not { } notifyByEmail)
        {
            return TypedResults.ValidationProblem(
                new Dictionary<string, string[]> { ["notifyByEmail"] = ["Say true or false."] }, title: "The request is not valid.");
        }

        return ApiResults.Ok(await notifications.SetPreferencesAsync(user.UserId(), notifyByEmail, ct));
    }
}
