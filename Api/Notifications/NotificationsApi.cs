using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Notifications;

namespace Platform.Api.Notifications;

/// <summary>The caller's notifications; anyone else's does not exist here (404).</summary>
public static class NotificationsApi
{
    public static RouteGroupBuilder MapNotificationsApi(this RouteGroupBuilder api)
    {
        var notifications = api.MapGroup("/notifications").WithTags("Notifications");
        notifications.MapGet("/", List).WithSummary("Your notifications, newest first; pass nextBefore as before for the next page.");
        notifications.MapGet("/unread-count", UnreadCount).WithSummary("How many of your notifications are unread.");
        notifications.MapPost("/{notificationId:long}/read", MarkRead).WithSummary("Mark one notification read.");
        notifications.MapPost("/read-all", MarkAllRead).WithSummary("Mark all your notifications read.");
        return api;
    }

    public static async Task<Ok<NotificationPage>> List(
        bool? unread, long? before, int? pageSize, ClaimsPrincipal user, NotificationService notifications, CancellationToken ct) =>
        TypedResults.Ok(await notifications.ListAsync(user.UserId(), unread == true, before, pageSize, ct));

    public static async Task<Ok<UnreadCountResponse>> UnreadCount(ClaimsPrincipal user, NotificationService notifications, CancellationToken ct) =>
        TypedResults.Ok(new UnreadCountResponse(await notifications.UnreadCountAsync(user.UserId(), ct)));

    public static async Task<Results<Ok<NotificationResponse>, ValidationProblem, ProblemHttpResult>> MarkRead(
        long notificationId, ClaimsPrincipal user, NotificationService notifications, CancellationToken ct) =>
        ApiResults.Ok(await notifications.MarkReadAsync(user.UserId(), notificationId, ct));

    public static async Task<Ok<UnreadCountResponse>> MarkAllRead(ClaimsPrincipal user, NotificationService notifications, CancellationToken ct)
    {
        await notifications.MarkAllReadAsync(user.UserId(), ct);
        return TypedResults.Ok(new UnreadCountResponse(0));
    }
}
