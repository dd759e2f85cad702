using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Mail;
using Platform.Core.Persistence;

namespace Platform.Core.Notifications;

/// <summary>
/// Notifications, always for the asking user: someone else's is not found. <see cref="AddAsync"/> stores one and runs
/// <c>NOTIFY notifications, '&lt;userId&gt;'</c> after it is committed, so a listener (the Api's hub) can tell that
/// user's browsers to refresh their unread count. Users who opted in (<c>NotifyByEmail</c>) also get it by e-mail,
/// through the mail outbox (committed first, delivered when SMTP takes it).
/// </summary>
public sealed class NotificationService(PlatformDbContext db, MailService mail, IOptions<PlatformOptions> platform, TimeProvider clock)
{
    public const string Channel = "notifications";
    public const int TitleMaxLength = 200;
    public const int MessageMaxLength = 4000;
    public const int LinkMaxLength = 500;
    public const int KindMaxLength = 64;

    public async Task<NotificationResponse> AddAsync(
        Guid userId, string kind, string title, string message, string? link = null, Guid? accountId = null, CancellationToken ct = default)
    {
        var notification = await StoreAsync(userId, kind, title, message, link, accountId, ct);
        await MailIfOptedInAsync(notification, ct);
        return ToResponse(notification);
    }

    /// <summary>
    /// Stores one and notifies the user's listeners, without the e-mail: for a caller inside a transaction of its own,
    /// which hands the stored notification to <see cref="MailIfOptedInAsync"/> once committed (no SMTP talk while
    /// rows are locked, no mail about something rolled back).
    /// </summary>
    public async Task<Notification> StoreAsync(
        Guid userId, string kind, string title, string message, string? link = null, Guid? accountId = null, CancellationToken ct = default)
    {
        var notification = new Notification
        {
            UserId = userId,
            AccountId = accountId,
            Kind = Cut(kind, KindMaxLength),
            Title = Cut(title, TitleMaxLength),
            Message = Cut(message, MessageMaxLength),
            Link = link is null ? null : Cut(link, LinkMaxLength),
            CreatedAt = clock.GetUtcNow(),
        };
        db.Notifications.Add(notification);
        await db.SaveChangesAsync(ct);
        await NotifyAsync(userId, ct);
        return notification;
    }

    /// <summary>Whether the user wants notifications by e-mail too.</summary>
    public async Task<Result<NotificationPreferences>> GetPreferencesAsync(Guid userId, CancellationToken ct = default) =>
        await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new NotificationPreferences(u.NotifyByEmail)).FirstOrDefaultAsync(ct)
            is { } found ? found : Error.NotFound("User");

    public async Task<Result<NotificationPreferences>> SetPreferencesAsync(Guid userId, bool notifyByEmail, CancellationToken ct = default)
    {
        var changed = await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s.SetProperty(u => u.NotifyByEmail, notifyByEmail), ct);
        return changed == 0 ? Error.NotFound("User") : new NotificationPreferences(notifyByEmail);
    }

    /// <summary>E-mails a stored notification to its user when they asked for that.</summary>
    public async Task MailIfOptedInAsync(Notification n, CancellationToken ct = default)
    {
        var to = await db.Users.AsNoTracking().Where(u => u.Id == n.UserId && u.NotifyByEmail && u.Email != null)
            .Select(u => u.Email).FirstOrDefaultAsync(ct);
        if (to is null)
        {
            return;
        }

        var link = n.Link is null ? "" : $"\n\n{(n.Link.StartsWith('/') ? platform.Value.PublicUrl.TrimEnd('/') + n.Link : n.Link)}";
        await mail.SendAsync(to, n.Title, $"{n.Message}{link}\n\nYou get this because you asked for notifications by e-mail; turn them off on your profile page.", ct);
    }

    /// <summary>Newest first, keyset-paged: <paramref name="before"/> is the previous page's <see cref="NotificationPage.NextBefore"/>.</summary>
    public async Task<NotificationPage> ListAsync(Guid userId, bool unreadOnly, long? before, int? pageSize, CancellationToken ct = default)
    {
        var size = Math.Clamp(pageSize ?? 50, 1, Paging.MaxPageSize);
        var query = db.Notifications.AsNoTracking().Where(n => n.UserId == userId);
        if (unreadOnly)
        {
            query = query.Where(n => n.ReadAt == null);
        }

        if (before is { } cursor)
        {
            query = query.Where(n => n.Id < cursor);
        }

        var rows = await query.OrderByDescending(n => n.Id).Take(size + 1).ToListAsync(ct);
        var more = rows.Count > size;
        var items = rows.Take(size).Select(ToResponse).ToList();
        return new NotificationPage(items, more ? items[^1].Id : null);
    }

    public async Task<int> UnreadCountAsync(Guid userId, CancellationToken ct = default) =>
        await db.Notifications.CountAsync(n => n.UserId == userId && n.ReadAt == null, ct);

    public async Task<Result<NotificationResponse>> MarkReadAsync(Guid userId, long id, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var changed = await db.Notifications.Where(n => n.Id == id && n.UserId == userId && n.ReadAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), ct);
        var notification = await db.Notifications.AsNoTracking().FirstOrDefaultAsync(n => n.Id == id && n.UserId == userId, ct);
        if (notification is null)
        {
            return Error.NotFound("Notification");
        }

        if (changed > 0)
        {
            await NotifyAsync(userId, ct);
        }

        return ToResponse(notification);
    }

    /// <summary>Marks every unread notification of the user read; returns how many were.</summary>
    public async Task<int> MarkAllReadAsync(Guid userId, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var changed = await db.Notifications.Where(n => n.UserId == userId && n.ReadAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(n => n.ReadAt, now), ct);
        if (changed > 0)
        {
            await NotifyAsync(userId, ct);
        }

        return changed;
    }

    /// <summary>After a new notification and after read state changes alike, so every tab of the user refreshes its count.</summary>
    private async Task NotifyAsync(Guid userId, CancellationToken ct) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({Channel}, {userId.ToString()})", ct);

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..(max - 1)] + "…";

    public static NotificationResponse ToResponse(Notification n) =>
        new(n.Id, n.AccountId, n.Kind, n.Title, n.Message, n.Link, n.CreatedAt, n.ReadAt);
}
