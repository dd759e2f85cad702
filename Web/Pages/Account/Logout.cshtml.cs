using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Web.Extensions;

namespace Platform.Web.Pages.Account;

/// <summary>Signing out is a POST (a link or an image on another site must not sign anyone out); GET only asks.</summary>
public sealed class LogoutModel(SignInManager<PlatformUser> signIn) : PageModel
{
    public void OnGet()
    {
    }

    /// <param name="returnUrl">Where to go after signing in again, e.g. an invitation meant for another address.</param>
    public async Task<IActionResult> OnPostAsync(string? returnUrl)
    {
        await signIn.SignOutAsync();
        var next = this.SafeReturnUrl(returnUrl);
        return RedirectToPage("/Account/Login", new { returnUrl = next == "/" ? null : next });
    }
}
