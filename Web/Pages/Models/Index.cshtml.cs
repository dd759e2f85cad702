using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Models;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Models;

/// <summary>The models the user can see (their accounts' and those shared with them), and a form to register one.</summary>
public sealed class IndexModel(ModelService models, CurrentUser currentUser) : PageModel
{
    public const int PageSize = 25;

    [BindProperty]
    public CreateInput Input { get; set; } = new();

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    /// <summary>Only models of this framework ("pytorch").</summary>
    [BindProperty(SupportsGet = true, Name = "framework")]
    public string? Framework { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public PagedResponse<ModelResponse> Models { get; private set; } = new([], 0, 1, PageSize);

    public async Task OnGetAsync(CancellationToken ct) => await LoadAsync(ct);

    public async Task<IActionResult> OnPostCreateAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var inputSchema = JsonBox.Parse(ModelState, "Input.InputSchema", Input.InputSchema, blankClears: false);
        var outputSchema = JsonBox.Parse(ModelState, "Input.OutputSchema", Input.OutputSchema, blankClears: false);
        var metrics = JsonBox.Parse(ModelState, "Input.Metrics", Input.Metrics, blankClears: false);
        if (ModelState.IsValid)
        {
            var tags = (Input.Tags ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var created = await models.CreateModelAsync(currentUser.Id, new CreateModelRequest(
                null, Input.Name, Input.Description, Input.License, tags, Input.Framework, Input.Format, inputSchema, outputSchema, metrics), ct);
            if (created.IsSuccess)
            {
                this.Flash($"Model “{created.Value!.Name}” registered: upload its files to the draft, then publish version 1.");
                return RedirectToPage("Details", new { id = created.Value.Id });
            }

            // Core validates; its messages go beside the fields they name.
            ModelState.AddError<CreateInput>(created.Error!);
        }

        await LoadAsync(ct);
        return Page();
    }

    private async Task LoadAsync(CancellationToken ct) =>
        Models = await models.ListModelsAsync(currentUser.Id, Math.Max(1, PageNumber), PageSize, Search, Framework, ct);

    public sealed class CreateInput
    {
        public string? Name { get; set; }

        public string? Description { get; set; }

        public string? License { get; set; }

        /// <summary>Comma-separated; Core lower-cases and de-duplicates them.</summary>
        public string? Tags { get; set; }

        public string? Framework { get; set; }

        public string? Format { get; set; }

        /// <summary>JSON object texts; blank for none.</summary>
        public string? Metrics { get; set; }

        public string? InputSchema { get; set; }

        public string? OutputSchema { get; set; }
    }
}
