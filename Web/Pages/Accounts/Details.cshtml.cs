using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Core.Datasets;
using Platform.Core.Common;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Accounts;

/// <summary>
/// One account: its members (paged, searchable) and, for masters, renaming, roles, removals and invitations.
/// Who may do what is decided by Core (AccountService, InvitationService); this page only hides the controls a role
/// cannot use, and turns Core's refusals into 404 (not a member) or 403 (a forged form from a lower role).
/// </summary>
public sealed class DetailsModel(AccountService accounts, InvitationService invitations, DatasetService datasets, CurrentUser currentUser) : PageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    // Not "page": Razor Pages keeps that route value for the page's own name.
    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public RenameInput Rename { get; set; } = new();

    public InviteInput Invite { get; set; } = new();

    public UserSnapshot Me { get; private set; } = null!;

    public AccountResponse Account { get; private set; } = null!;

    public PagedResponse<MemberResponse> Members { get; private set; } = new([], 0, 1, PageSize);

    public IReadOnlyList<InvitationResponse> Invitations { get; private set; } = [];

    /// <summary>Storage the account's datasets and models keep, and its quota.</summary>
    public StorageUsage? Storage { get; private set; }

    public bool IsMaster => Account.Role == "master";

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        if (!await LoadAsync(ct))
        {
            return NotFound();
        }

        Rename.Name = Account.Name;
        return Page();
    }

    public async Task<IActionResult> OnPostRenameAsync(CancellationToken ct)
    {
        Me = await currentUser.RequireAsync(ct);
        if (!await TryUpdateModelAsync(Rename, nameof(Rename)))
        {
            return await RedisplayAsync(ct);
        }

        var result = await accounts.RenameAsync(Me.Id, Id, new UpdateAccountRequest(Rename.Name), ct);
        if (!result.IsSuccess)
        {
            return Refused(result.Error!) ?? await RedisplayAsync(ct, () => ModelState.AddError<RenameInput>(result.Error!, nameof(Rename)));
        }

        this.Flash($"The account is now called {result.Value!.Name}.");
        return RedirectToPage(new { Id });
    }

    public async Task<IActionResult> OnPostInviteAsync(CancellationToken ct)
    {
        Me = await currentUser.RequireAsync(ct);
        if (!await TryUpdateModelAsync(Invite, nameof(Invite)))
        {
            return await RedisplayAsync(ct);
        }

        var result = await invitations.CreateAsync(Me.Id, Id, new CreateInvitationRequest(Invite.Email, Invite.Role), ct);
        if (!result.IsSuccess)
        {
            return Refused(result.Error!) ?? await RedisplayAsync(ct, () => ModelState.AddError<InviteInput>(result.Error!, nameof(Invite)));
        }

        this.Flash($"Invitation sent to {result.Value!.Email}. The link in the e-mail works for {InvitationService.Lifetime.TotalDays:0} days.");
        return Redirect(Url.Page("/Accounts/Details", new { Id }) + "#invitations");
    }

    public async Task<IActionResult> OnPostRoleAsync(Guid memberId, string? role, CancellationToken ct)
    {
        var result = await accounts.SetRoleAsync(currentUser.Id, Id, memberId, new UpdateMemberRequest(role), ct);
        Result outcome = result.IsSuccess ? Result.Success : result.Error!;
        return this.RedirectOrFail(outcome, $"{result.Value?.DisplayName} is now {HtmlExtensions.RoleLabel(result.Value?.Role ?? "").ToLowerInvariant()}.", BackToMembers);
    }

    public async Task<IActionResult> OnPostRemoveAsync(Guid memberId, CancellationToken ct)
    {
        var result = await accounts.RemoveMemberAsync(currentUser.Id, Id, memberId, ct);
        return this.RedirectOrFail(result, "The member was removed from the account.", BackToMembers);
    }

    public async Task<IActionResult> OnPostLeaveAsync(CancellationToken ct)
    {
        var userId = currentUser.Id;
        var result = await accounts.RemoveMemberAsync(userId, Id, userId, ct);
        return this.RedirectOrFail(result, "You left the account.", result.IsSuccess ? () => RedirectToPage("/Accounts/Index") : BackToMembers);
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid invitationId, CancellationToken ct)
    {
        var result = await invitations.RevokeAsync(currentUser.Id, Id, invitationId, ct);
        return this.RedirectOrFail(result, "The invitation was withdrawn; its link no longer works.",
            () => Redirect(Url.Page("/Accounts/Details", new { Id }) + "#invitations"));
    }

    private IActionResult BackToMembers() => RedirectToPage(new { Id, q = Search, p = PageNumber > 1 ? PageNumber : (int?)null });

    private IActionResult? Refused(Error error) => error.Kind switch
    {
        ErrorKind.NotFound => NotFound(),
        ErrorKind.Forbidden => StatusCode(StatusCodes.Status403Forbidden),
        _ => null,
    };

    /// <summary>The page again after a form failed, with the form's input and its errors in place.</summary>
    private async Task<IActionResult> RedisplayAsync(CancellationToken ct, Action? addErrors = null)
    {
        if (!await LoadAsync(ct))
        {
            return NotFound();
        }

        addErrors?.Invoke();
        return Page();
    }

    private async Task<bool> LoadAsync(CancellationToken ct)
    {
        Me = await currentUser.RequireAsync(ct);
        var account = await accounts.GetAsync(Me.Id, Id, ct);
        if (!account.IsSuccess)
        {
            return false;
        }

        Account = account.Value!;
        var members = await accounts.ListMembersAsync(Me.Id, Id, PageNumber, PageSize, Search, ct);
        Members = members.Value ?? Members;
        Storage = (await datasets.UsageAsync(Me.Id, Id, ct)).Value;
        if (IsMaster)
        {
            Invitations = (await invitations.ListAsync(Me.Id, Id, ct)).Value ?? [];
        }

        return true;
    }

    public sealed class RenameInput
    {
        [Required(ErrorMessage = "Name the account.")]
        [StringLength(AccountService.NameMaxLength, ErrorMessage = "Keep the name to at most 100 characters.")]
        [Display(Name = "Account name")]
        public string Name { get; set; } = "";
    }

    public sealed class InviteInput
    {
        [Required(ErrorMessage = "Enter the e-mail address to invite.")]
        [EmailAddress(ErrorMessage = "Enter a valid e-mail address.")]
        [Display(Name = "E-mail")]
        public string Email { get; set; } = "";

        [Required]
        [RegularExpression("^(master|member|viewer)$", ErrorMessage = "Choose master, member or viewer.")]
        public string Role { get; set; } = "member";
    }
}
