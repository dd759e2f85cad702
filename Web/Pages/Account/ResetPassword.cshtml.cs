using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Platform.Core.Accounts;
using Platform.Web.Extensions;

namespace Platform.Web.Pages.Account;

/// <summary>
/// Sets a new password from an e-mailed link. Identity's reset token is bound to the user's security stamp, which the
/// reset changes, so a link works once; it also expires after two hours (Core's token lifespan).
/// </summary>
public sealed class ResetPasswordModel(UserManager<PlatformUser> users) : PageModel
{
    public const string LinkUnusable = "This link has already been used or has expired";

    [BindProperty]
    public ResetPasswordInput Input { get; set; } = new();

    /// <summary>The link cannot reset anything: used, expired, mangled, or for an unknown address (said the same way).</summary>
    public bool InvalidLink { get; private set; }

    public async Task OnGetAsync(string? email, string? token)
    {
        Input.Email = email ?? "";
        Input.Token = token ?? "";
        var (user, decoded) = await FindAsync();
        InvalidLink = user is null || decoded is null
            || !await users.VerifyUserTokenAsync(user, users.Options.Tokens.PasswordResetTokenProvider, UserManager<PlatformUser>.ResetPasswordTokenPurpose, decoded);
    }

    public async Task<IActionResult> OnPostAsync()
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var (user, decoded) = await FindAsync();
        if (user is null || decoded is null)
        {
            InvalidLink = true;
            return Page();
        }

        var result = await users.ResetPasswordAsync(user, decoded, Input.Password);
        if (result.Succeeded)
        {
            this.Flash("Your password was changed. Sign in with the new one.");
            return RedirectToPage("/Account/Login");
        }

        if (result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.InvalidToken)))
        {
            InvalidLink = true;
            return Page();
        }

        ModelState.AddError<ResetPasswordInput>(IdentityErrors.ToError(result));
        return Page();
    }

    private async Task<(PlatformUser? User, string? Token)> FindAsync()
    {
        if (string.IsNullOrWhiteSpace(Input.Email) || string.IsNullOrWhiteSpace(Input.Token))
        {
            return (null, null);
        }

        string token;
        try
        {
            token = Encoding.UTF8.GetString(WebEncoders.Base64UrlDecode(Input.Token));
        }
        catch (FormatException)
        {
            return (null, null);
        }

        return (await users.FindByEmailAsync(Input.Email), token);
    }

    public sealed class ResetPasswordInput
    {
        public string Email { get; set; } = "";

        public string Token { get; set; } = "";

        [Required(ErrorMessage = "Choose a new password.")]
        [StringLength(200, MinimumLength = 10, ErrorMessage = "The password needs at least 10 characters.")]
        [DataType(DataType.Password)]
        [Display(Name = "New password")]
        public string Password { get; set; } = "";

        [Required(ErrorMessage = "Repeat the new password.")]
        [Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
        [DataType(DataType.Password)]
        [Display(Name = "Repeat the new password")]
        public string ConfirmPassword { get; set; } = "";
    }
}
