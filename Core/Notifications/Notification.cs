namespace Platform.Core.Notifications;

/// <summary>
/// A message for one user, shown under the bell in the top bar until read. Generic on purpose: <see cref="Kind"/> names
/// what sent it ("deployment.idle-warning", "job.finished"), <see cref="Link"/> where to go about it.
/// </summary>
public sealed class Notification
{
    /// <summary>Increasing, so "newest first" and the keyset cursor are both this column.</summary>
    public long Id { get; set; }
    public Guid UserId { get; set; }
    public Guid? AccountId { get; set; }
    public string Kind { get; set; } = "";
    public string Title { get; set; } = "";
    public string Message { get; set; } = "";
    public string? Link { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? ReadAt { get; set; }
}

public sealed record NotificationResponse(
    long Id, Guid? AccountId, string Kind, string Title, string Message, string? Link, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>A page of notifications, newest first; pass <see cref="NextBefore"/> as <c>before</c> for the next page (null: no more).</summary>
public sealed record NotificationPage(IReadOnlyList<NotificationResponse> Items, long? NextBefore);

public sealed record UnreadCountResponse(int Count);

/// <summary>How the user wants to hear about their work: in the app always, and by e-mail when <see cref="NotifyByEmail"/>.</summary>
public sealed record NotificationPreferences(bool NotifyByEmail);

public sealed record UpdatePreferencesRequest(bool? NotifyByEmail);
