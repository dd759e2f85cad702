using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Accounts;

public sealed class IndexModel(AccountService accounts, CurrentUser currentUser) : PageModel
{
    [BindProperty]
    public CreateAccountInput Input { get; set; } = new();

    public UserSnapshot Me { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken ct) => Me = await currentUser.RequireAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        Me = await currentUser.RequireAsync(ct);
        if (!ModelState.IsValid)
        {
            return Page();
        }

        var created = await accounts.CreateAsync(Me.Id, new CreateAccountRequest(Input.Name), ct);
        if (!created.IsSuccess)
        {
            ModelState.AddError<CreateAccountInput>(created.Error!);
            return Page();
        }

        this.Flash($"Account {created.Value!.Name} created; you are its master. Invite people below, or switch to it from the menu.");
        return RedirectToPage("/Accounts/Details", new { id = created.Value.Id });
    }

    public sealed class CreateAccountInput
    {
        [Required(ErrorMessage = "Name the account.")]
        [StringLength(AccountService.NameMaxLength, ErrorMessage = "Keep the name to at most 100 characters.")]
        [Display(Name = "Account name")]
        public string Name { get; set; } = "";
    }
}
