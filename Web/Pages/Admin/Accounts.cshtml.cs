using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Admin;
using Platform.Core.Common;

namespace Platform.Web.Pages.Admin;

public sealed class AccountsModel(AdminService admin) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public PagedResponse<AdminAccountResponse> Accounts { get; private set; } = new([], 0, 1, PageSize);

    public async Task OnGetAsync(CancellationToken ct) => Accounts = await admin.ListAccountsAsync(PageNumber, PageSize, Search, ct);
}
