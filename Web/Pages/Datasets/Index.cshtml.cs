using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Datasets;

/// <summary>The datasets the user can see (their accounts' and those shared with them), and a form to create one.</summary>
public sealed class IndexModel(DatasetService datasets, CurrentUser currentUser) : PageModel
{
    public const int PageSize = 25;

    /// <summary>The server's rule, said before the user trips over it.</summary>
    public const string NameHelp = "1 to 100 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit; used in name@version.";

    [BindProperty]
    public CreateInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public PagedResponse<DatasetResponse> Datasets { get; private set; } = new([], 0, 1, PageSize);

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        var tags = (Input.Tags ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var created = await datasets.CreateAsync(
            currentUser.Id, new CreateDatasetRequest(null, Input.Name, Input.Description, Input.License, tags), ct);
        if (created.IsSuccess)
        {
            this.Flash($"Dataset “{created.Value!.Name}” created: upload files to its draft, then publish version 1.");
            return RedirectToPage("Details", new { id = created.Value.Id });
        }

        // Core validates; its messages go beside the fields they name (accountId has no field: page level).
        ModelState.Clear();
        ModelState.AddError<CreateInput>(created.Error!);
        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Datasets = await datasets.ListAsync(currentUser.Id, Math.Max(1, PageNumber), PageSize, Search, ct);

    public sealed class CreateInput
    {
        public string? Name { get; set; }

        public string? Description { get; set; }

        public string? License { get; set; }

        /// <summary>Comma-separated; Core lower-cases and de-duplicates them.</summary>
        public string? Tags { get; set; }
    }
}
