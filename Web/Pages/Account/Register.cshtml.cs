using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Admin;
using Platform.Web.Extensions;

namespace Platform.Web.Pages.Account;

public sealed class RegisterModel(
    RegistrationService registration, InvitationService invitations, SettingsService settings,
    UserManager<PlatformUser> users, SignInManager<PlatformUser> signIn) : PageModel
{
    [BindProperty]
    public RegisterInput Input { get; set; } = new();

    /// <summary>The invitation token from an e-mailed link, carried through the form.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? ReturnUrl { get; set; }

    /// <summary>The pending invitation the token stands for; the e-mail address is then fixed to its address.</summary>
    public InvitationPreview? Invitation { get; private set; }

    public string? InvitationProblem { get; private set; }

    /// <summary>Invite-only and not the very first user: without a valid invitation there is no form to fill.</summary>
    public bool ByInvitationOnly { get; private set; }

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (signIn.IsSignedIn(User))
        {
            return string.IsNullOrEmpty(Token)
                ? LocalRedirect(this.SafeReturnUrl(ReturnUrl))
                : RedirectToPage("/Invitations/Accept", new { token = Token });
        }

        await LoadAsync(ct);
        Input.Email = Invitation?.Email ?? "";
        return Page();
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        await LoadAsync(ct);
        if (Invitation is not null)
        {
            // The address is the invitation's, whatever was posted: it is shown locked on the form.
            ModelState.Remove($"{nameof(Input)}.{nameof(Input.Email)}");
            Input.Email = Invitation.Email;
        }

        if (!ModelState.IsValid)
        {
            return Page();
        }

        var result = await registration.RegisterAsync(
            new RegisterRequest(Input.Email, Input.Password, Input.DisplayName, Invitation is null ? null : Token), ct);
        if (!result.IsSuccess)
        {
            ModelState.AddError<RegisterInput>(result.Error!);
            return Page();
        }

        var user = result.Value!;
        await signIn.SignInAsync(user, isPersistent: false);
        if (Invitation is not null && user.CurrentAccountId is { } joined)
        {
            this.Flash($"Welcome! You joined {Invitation.AccountName} as {HtmlExtensions.RoleLabel(Invitation.Role).ToLowerInvariant()}.");
            return RedirectToPage("/Accounts/Details", new { id = joined });
        }

        this.Flash(user.IsPlatformAdmin
            ? "Welcome! As the first user you are the platform admin."
            : "Welcome! Your user and your own account are ready.");
        return LocalRedirect(this.SafeReturnUrl(ReturnUrl));
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        if (!string.IsNullOrWhiteSpace(Token))
        {
            var preview = await invitations.PreviewAsync(Token, ct);
            if (preview.IsSuccess && preview.Value!.Status == "pending")
            {
                Invitation = preview.Value;
            }
            else
            {
                InvitationProblem = preview.IsSuccess
                    ? $"This invitation link is {preview.Value!.Status}; ask the account master for a new one."
                    : "This invitation link is not valid; check that it was copied whole, or ask for a new one.";
            }
        }

        ByInvitationOnly = Invitation is null
            && await settings.GetRegistrationModeAsync(ct) == RegistrationMode.InviteOnly
            && await users.Users.AnyAsync(ct);
    }

    public sealed class RegisterInput
    {
        [Required(ErrorMessage = "Enter your e-mail address.")]
        [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
        [StringLength(256)]
        [Display(Name = "E-mail")]
        public string Email { get; set; } = "";

        [Required(ErrorMessage = "Enter your name as others should see it.")]
        [StringLength(100, ErrorMessage = "Keep the name to at most 100 characters.")]
        [Display(Name = "Your name")]
        public string DisplayName { get; set; } = "";

        [Required(ErrorMessage = "Choose a password.")]
        [StringLength(200, MinimumLength = 10, ErrorMessage = "The password needs at least 10 characters.")]
        [DataType(DataType.Password)]
        public string Password { get; set; } = "";

        [Required(ErrorMessage = "Repeat the password.")]
        [Compare(nameof(Password), ErrorMessage = "The two passwords differ.")]
        [DataType(DataType.Password)]
        [Display(Name = "Repeat the password")]
        public string ConfirmPassword { get; set; } = "";
    }
}
