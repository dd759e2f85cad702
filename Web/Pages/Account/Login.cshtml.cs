using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Web.Extensions;

namespace Platform.Web.Pages.Account;

public sealed class LoginModel(SignInManager<PlatformUser> signIn, UserManager<PlatformUser> users) : PageModel
{
    public const string InvalidCredentials = "Invalid e-mail or password.";

    [BindProperty]
    public LoginInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    public IActionResult OnGet() =>
        signIn.IsSignedIn(User) ? LocalRedirect(this.SafeReturnUrl(ReturnUrl)) : Page();

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var email = Input.Email.Trim();
        var result = await signIn.PasswordSignInAsync(email, Input.Password, Input.RememberMe, lockoutOnFailure: true);
        if (result.Succeeded)
        {
            return LocalRedirect(this.SafeReturnUrl(ReturnUrl));
        }

        if (result.IsLockedOut)
        {
            // Only an existing user can be locked out, so naming the time reveals nothing the lockout itself does not.
            var user = await users.FindByEmailAsync(email);
            var until = user is null ? null : await users.GetLockoutEndDateAsync(user);
            return RedirectToPage("/Account/Lockout", new { until = until?.ToUnixTimeSeconds() });
        }

        // One message for an unknown address and a wrong password, so the form cannot be used to find users.
        ModelState.AddModelError("", InvalidCredentials);
        return Page();
    }

    public sealed class LoginInput
    {
        [Required(ErrorMessage = "Enter your e-mail address.")]
        [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
        [Display(Name = "E-mail")]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Enter your password.")]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";

        [Display(Name = "Keep me signed in on this device")]
        public bool RememberMe { get; set; }
    }
}
