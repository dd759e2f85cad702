using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Invitations;

/// <summary>
/// Where an invitation e-mail leads. Open to strangers, since the invitee may have no user yet: it then offers to
/// sign in or register, carrying the token along. Accepting needs the invited address (Core checks it).
/// </summary>
public sealed class AcceptModel(InvitationService invitations, CurrentUser currentUser) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Token { get; set; }

    public InvitationPreview? Invitation { get; private set; }

    public UserSnapshot? Me { get; private set; }

    public string? Problem { get; private set; }

    /// <summary>Signed in, but as someone else than the invitation is for.</summary>
    public bool OtherAddress =>
        Me is not null && Invitation is not null && !string.Equals(Me.Email, Invitation.Email, StringComparison.OrdinalIgnoreCase);

    public string Here => Url.Page("/Invitations/Accept", new { token = Token }) ?? "/";

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostAsync(CancellationToken ct)
    {
        if (!currentUser.IsSignedIn)
        {
            return Challenge();
        }

        var accepted = await invitations.AcceptAsync(currentUser.Id, Token, ct);
        if (accepted.IsSuccess)
        {
            this.Flash($"You joined {accepted.Value!.Name} as {HtmlExtensions.RoleLabel(accepted.Value.Role).ToLowerInvariant()}; it is now your current account.");
            return RedirectToPage("/Accounts/Details", new { id = accepted.Value.Id });
        }

        await LoadAsync(ct);
        Problem = accepted.Error!.Message;
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct)
    {
        Me = await currentUser.GetAsync(ct);
        var preview = await invitations.PreviewAsync(Token, ct);
        if (!preview.IsSuccess)
        {
            Problem = "This invitation link is not valid: check that it was copied whole, or ask the account master for a new one.";
            return;
        }

        Invitation = preview.Value;
        Problem = Invitation!.Status switch
        {
            "accepted" => "This invitation has already been used.",
            "revoked" => "This invitation was withdrawn; ask the account master for a new one.",
            "expired" => "This invitation has expired; ask the account master for a new one.",
            _ when OtherAddress => $"This invitation was sent to {Invitation.Email}, but you are signed in as {Me!.Email}. "
                + "Sign out and sign in (or register) with the invited address to accept it.",
            _ => null,
        };
    }
}
