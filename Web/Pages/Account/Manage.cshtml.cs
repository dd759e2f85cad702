using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Core.Notifications;
using Platform.Web.Extensions;

namespace Platform.Web.Pages.Account;

/// <summary>
/// Two independent forms: each handler binds only its own input (TryUpdateModelAsync), so the other form's required
/// fields never fail a post they were not part of.
/// </summary>
public sealed class ManageModel(UserManager<PlatformUser> users, SignInManager<PlatformUser> signIn, NotificationService notifications) : PageModel
{
    private static readonly Dictionary<string, string> PasswordFields = new()
    {
        ["password"] = nameof(PasswordInput.NewPassword),
    };

    public ProfileInput Profile { get; set; } = new();

    public PasswordInput Password { get; set; } = new();

    public string Email { get; private set; } = "";

    /// <summary>Notifications (jobs starting, ending, failing) by e-mail too, not only in the app.</summary>
    public bool NotifyByEmail { get; private set; }

    public async Task<IActionResult> OnGetAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }

        Show(user);
        return Page();
    }

    public async Task<IActionResult> OnPostProfileAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }

        Email = user.Email ?? "";
        if (!await TryUpdateModelAsync(Profile, nameof(Profile)))
        {
            return Page();
        }

        user.DisplayName = Profile.DisplayName.Trim();
        var result = await users.UpdateAsync(user);
        if (!result.Succeeded)
        {
            ModelState.AddError<ProfileInput>(IdentityErrors.ToError(result), nameof(Profile));
            return Page();
        }

        this.Flash("Your name was saved.");
        return RedirectToPage();
    }

    public async Task<IActionResult> OnPostPasswordAsync()
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }

        Show(user);
        if (!await TryUpdateModelAsync(Password, nameof(Password)))
        {
            return Page();
        }

        var result = await users.ChangePasswordAsync(user, Password.CurrentPassword, Password.NewPassword);
        if (!result.Succeeded)
        {
            ModelState.AddError<PasswordInput>(IdentityErrors.ToError(result), nameof(Password), PasswordFields);
            return Page();
        }

        // The change renewed the security stamp, which signs out every other session within a minute; reissue this
        // session's cookie with the new stamp so it is not one of them.
        await signIn.RefreshSignInAsync(user);
        this.Flash("Your password was changed. Other devices will have to sign in again.");
        return RedirectToPage();
    }

    private void Show(PlatformUser user)
    {
        Email = user.Email ?? "";
        Profile.DisplayName = user.DisplayName;
        NotifyByEmail = user.NotifyByEmail;
    }

    public async Task<IActionResult> OnPostNotificationsAsync(bool notifyByEmail, CancellationToken ct)
    {
        if (await users.GetUserAsync(User) is not { } user)
        {
            return Challenge();
        }

        var saved = await notifications.SetPreferencesAsync(user.Id, notifyByEmail, ct);
        return this.RedirectOrFail(saved.IsSuccess ? Platform.Core.Common.Result.Success : saved.Error!,
            notifyByEmail ? $"Notifications will also come by e-mail to {user.Email}." : "Notifications stay in the app; no more e-mail.",
            () => RedirectToPage());
    }

    public sealed class ProfileInput
    {
        [Required(ErrorMessage = "Enter your name as others should see it.")]
        [StringLength(100, ErrorMessage = "Keep the name to at most 100 characters.")]
        [Display(Name = "Your name")]
        public string DisplayName { get; set; } = "";
    }

    public sealed class PasswordInput
    {
        [Required(ErrorMessage = "Enter your current password.")]
        [DataType(DataType.Password)]
        [Display(Name = "Current password")]
        public string CurrentPassword { get; set; } = "";

        [Required(ErrorMessage = "Choose a new password.")]
        [StringLength(200, MinimumLength = 10, ErrorMessage = "The password needs at least 10 characters.")]
        [DataType(DataType.Password)]
        [Display(Name = "New password")]
        public string NewPassword { get; set; } = "";

        [Required(ErrorMessage = "Repeat the new password.")]
        [Compare(nameof(NewPassword), ErrorMessage = "The two passwords differ.")]
        [DataType(DataType.Password)]
        [Display(Name = "Repeat the new password")]
        public string ConfirmPassword { get; set; } = "";
    }
}
