using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;
using Platform.Core.Accounts;
using Platform.Core.Admin;
using Platform.Core.Mail;

namespace Platform.Web.Pages.Account;

/// <summary>
/// Mails a reset link when the address belongs to a user, and says the same thing either way, so the form cannot be
/// used to find out who has a user here.
/// </summary>
public sealed class ForgotPasswordModel(UserManager<PlatformUser> users, MailService mail, IOptions<PlatformOptions> options) : PageModel
{
    [BindProperty]
    public ForgotPasswordInput Input { get; set; } = new();

    public bool Sent { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var user = await users.FindByEmailAsync(Input.Email.Trim());
        if (user?.Email is { } email)
        {
            var token = await users.GeneratePasswordResetTokenAsync(user);
            var encoded = WebEncoders.Base64UrlEncode(Encoding.UTF8.GetBytes(token));
            var link = $"{options.Value.PublicUrl.TrimEnd('/')}/Account/ResetPassword?email={Uri.EscapeDataString(email)}&token={encoded}";
            await mail.SendAsync(email, "Reset your Platform password",
                $"""
                Someone (hopefully you) asked to reset the password of {email} on Platform.

                Choose a new password here (the link works once, for two hours):
                {link}

                If it was not you, ignore this mail: your password stays as it is.
                """, ct);
        }

        Sent = true;
        return Page();
    }

    public sealed class ForgotPasswordInput
    {
        [Required(ErrorMessage = "Enter your e-mail address.")]
        [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
        [Display(Name = "E-mail")]
        public string Email { get; set; } = "";
    }
}
