using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Accounts;

/// <summary>The account switcher's target: changes the current account and goes back where the user was.</summary>
public sealed class SwitchModel(AccountService accounts, CurrentUser currentUser) : PageModel
{
    public IActionResult OnGet() => RedirectToPage("/Accounts/Index");

    public async Task<IActionResult> OnPostAsync(Guid accountId, string? returnUrl, CancellationToken ct)
    {
        var result = await accounts.SwitchAsync(currentUser.Id, accountId, ct);
        if (!result.IsSuccess)
        {
            return NotFound();
        }

        var account = await accounts.GetAsync(currentUser.Id, accountId, ct);
        this.Flash($"You are now working in {account.Value?.Name}.");
        return LocalRedirect(this.SafeReturnUrl(returnUrl));
    }
}
