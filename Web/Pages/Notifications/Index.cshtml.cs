using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Notifications;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Notifications;

/// <summary>The signed-in user's notifications, newest first, with "mark read" one by one or all at once.</summary>
public sealed class IndexModel(NotificationService notifications, CurrentUser currentUser) : PageModel
{
    public const int PageSize = 30;

    [BindProperty(SupportsGet = true)]
    public bool Unread { get; set; }

    [BindProperty(SupportsGet = true)]
    public long? Before { get; set; }

    public NotificationPage Notifications { get; private set; } = new([], null);

    public int UnreadCount { get; private set; }

    public async Task OnGetAsync(CancellationToken ct)
    {
        Notifications = await notifications.ListAsync(currentUser.Id, Unread, Before, PageSize, ct);
        UnreadCount = await notifications.UnreadCountAsync(currentUser.Id, ct);
    }

    public async Task<IActionResult> OnPostReadAsync(long id, CancellationToken ct)
    {
        var read = await notifications.MarkReadAsync(currentUser.Id, id, ct);
        if (!read.IsSuccess)
        {
            return NotFound();
        }

        // "Open" marks it read and goes where it points; "Mark read" stays on the list.
        return Request.Form.ContainsKey("open") && read.Value!.Link is { } link && Url.IsLocalUrl(link)
            ? Redirect(link)
            : RedirectToPage(new { Unread = Unread ? true : (bool?)null, Before });
    }

    public async Task<IActionResult> OnPostReadAllAsync(CancellationToken ct)
    {
        var count = await notifications.MarkAllReadAsync(currentUser.Id, ct);
        this.Flash(count == 1 ? "1 notification marked read." : $"{count} notifications marked read.");
        return RedirectToPage();
    }
}
