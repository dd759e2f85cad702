using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Platform.Core.AccessKeys;
using Platform.Core.Admin;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Keys;

/// <summary>
/// The user's access keys. A new key is rendered in the response to the POST that created it and nowhere else:
/// not stored, not put in TempData, not redirected with, so it truly is shown once.
/// </summary>
public sealed class IndexModel(AccessKeyService keys, CurrentUser currentUser, IOptions<PlatformOptions> options, TimeProvider clock) : PageModel
{
    public static readonly IReadOnlyList<(int Days, string Label)> Lifetimes =
        [(30, "30 days"), (90, "90 days"), (365, "1 year"), (0, "Never")];

    [BindProperty]
    public CreateKeyInput Input { get; set; } = new();

    public IReadOnlyList<AccessKeyResponse> Keys { get; private set; } = [];

    /// <summary>Only in the response that created it.</summary>
    public CreatedAccessKeyResponse? Created { get; private set; }

    public string PublicUrl => options.Value.PublicUrl.TrimEnd('/');

    public async Task OnGetAsync(CancellationToken ct) => Keys = await keys.ListAsync(currentUser.Id, ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        if (!Lifetimes.Any(l => l.Days == Input.ExpiresInDays))
        {
            ModelState.AddModelError($"{nameof(Input)}.{nameof(Input.ExpiresInDays)}", "Choose one of the offered lifetimes.");
        }

        if (ModelState.IsValid)
        {
            DateTimeOffset? expires = Input.ExpiresInDays > 0 ? clock.GetUtcNow().AddDays(Input.ExpiresInDays) : null;
            var created = await keys.CreateAsync(currentUser.Id, new CreateAccessKeyRequest(Input.Name, Input.Scope, expires), ct);
            if (created.IsSuccess)
            {
                Created = created.Value;
                Input = new CreateKeyInput();
                ModelState.Clear();
                // The page holds a secret: keep it out of every cache, the browser's back-forward one included.
                Response.Headers.CacheControl = "no-store";
            }
            else
            {
                ModelState.AddError<CreateKeyInput>(created.Error!, aliases: new Dictionary<string, string> { ["expiresAt"] = nameof(Input.ExpiresInDays) });
            }
        }

        Keys = await keys.ListAsync(currentUser.Id, ct);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid keyId, CancellationToken ct)
    {
        var result = await keys.RevokeAsync(currentUser.Id, keyId, ct);
        return this.RedirectOrFail(result, "The key was revoked: programs using it are refused from now on.", () => RedirectToPage());
    }

    public sealed class CreateKeyInput
    {
        [Required(ErrorMessage = "Name the key after where it is used, e.g. \"laptop\" or \"CI\".")]
        [StringLength(100, ErrorMessage = "Keep the name to at most 100 characters.")]
        public string Name { get; set; } = "";

        [Required]
        [RegularExpression("^(read|full)$", ErrorMessage = "Choose read or full.")]
        public string Scope { get; set; } = "full";

        [Display(Name = "Expires after")]
        public int ExpiresInDays { get; set; } = 90;
    }
}
