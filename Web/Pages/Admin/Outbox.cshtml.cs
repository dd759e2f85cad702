using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Mail;

namespace Platform.Web.Pages.Admin;

/// <summary>Every mail the platform wrote, newest first: where an admin reads invitations and reset links when no SMTP server is set.</summary>
public sealed class OutboxModel(AdminService admin, IOptions<MailOptions> mail) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public PagedResponse<OutboxMessageResponse> Messages { get; private set; } = new([], 0, 1, PageSize);

    public bool SmtpConfigured => mail.Value.SmtpConfigured;

    public async Task OnGetAsync(CancellationToken ct) => Messages = await admin.ListOutboxAsync(PageNumber, PageSize, ct);
}
