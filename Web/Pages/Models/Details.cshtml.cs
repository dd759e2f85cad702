using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Core.Models;
using Platform.Web.Extensions;
using Platform.Web.Identity;
using Platform.Web.Pages.Datasets;

namespace Platform.Web.Pages.Models;

/// <summary>
/// One model: its metadata and metrics, versions with their aliases, the files of a version, the upload panel,
/// publishing, aliases, the catalog flag, deleting and shares. Every action goes through <see cref="ModelService"/>,
/// which decides; the page reads the caller's access only to hide controls that would be refused anyway.
/// </summary>
public sealed class DetailsModel(ModelService models, CurrentUser currentUser) : PageModel, IArtifactPage
{
    public const int FilePageSize = 50;

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    /// <summary>"draft", "latest", a number or an alias: the version whose files are listed.</summary>
    [BindProperty(SupportsGet = true, Name = "v")]
    public string? Version { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? After { get; set; }

    [BindProperty]
    public ShareInput Share { get; set; } = new();

    [BindProperty]
    public AliasInput Alias { get; set; } = new();

    [BindProperty]
    public EditInput Edit { get; set; } = new();

    public ModelResponse Info { get; private set; } = null!;

    public string ArtifactName => Info.Name;

    public string ApiCollection => "models";

    public IReadOnlyList<VersionResponse> Versions { get; private set; } = [];

    public FilePage? Files { get; private set; }

    public string? FilesError { get; private set; }

    public IReadOnlyList<ShareResponse> Shares { get; private set; } = [];

    public bool CanWrite { get; private set; }

    public bool CanManage { get; private set; }

    /// <summary>The metadata form is shown open: it came back with errors.</summary>
    public bool EditOpen { get; private set; }

    public string SelectedVersion => string.IsNullOrWhiteSpace(Version) ? (Info.LatestVersion is null ? "draft" : "latest") : Version.Trim();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ?? Page();

    public async Task<IActionResult> OnPostPublishAsync(CancellationToken ct)
    {
        var published = await models.PublishAsync(currentUser.Id, Id, ct);
        return Done(published.IsSuccess ? Result.Success : published.Error!,
            published.IsSuccess ? $"Published version {published.Value!.Version}: it will never change." : "", published.Value?.Version);
    }

    public async Task<IActionResult> OnPostDeleteVersionAsync(string version, CancellationToken ct) =>
        Done(await models.DeleteVersionAsync(currentUser.Id, Id, version, ct), $"Version {version} was deleted.", null);

    public async Task<IActionResult> OnPostSetAliasAsync(CancellationToken ct)
    {
        var alias = Alias.Name?.Trim() ?? "";
        var set = await models.SetAliasAsync(currentUser.Id, Id, alias, new SetAliasRequest(Alias.Version), ct);
        if (set.IsSuccess)
        {
            this.Flash($"“{alias}” now names version {set.Value!.Aliases[alias]}.");
            return RedirectToPage(new { id = Id });
        }

        if (set.Error!.Kind is not ErrorKind.Validation)
        {
            return Done(set.Error, "", null);
        }

        ModelState.Clear();
        ModelState.AddError<AliasInput>(set.Error, nameof(Alias), new Dictionary<string, string> { ["alias"] = nameof(AliasInput.Name) });
        return await LoadAsync(ct) ?? Page();
    }

    /// <summary>Saves the metadata form; it sends every field, so an emptied one is cleared.</summary>
    public async Task<IActionResult> OnPostEditAsync(CancellationToken ct)
    {
        ModelState.Clear();
        var inputSchema = JsonBox.Parse(ModelState, "Edit.InputSchema", Edit.InputSchema, blankClears: true);
        var outputSchema = JsonBox.Parse(ModelState, "Edit.OutputSchema", Edit.OutputSchema, blankClears: true);
        var metrics = JsonBox.Parse(ModelState, "Edit.Metrics", Edit.Metrics, blankClears: true);
        if (ModelState.IsValid)
        {
            var tags = (Edit.Tags ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var updated = await models.UpdateModelAsync(currentUser.Id, Id, new UpdateModelRequest(
                Edit.Description ?? "", Edit.License ?? "", tags, Edit.Framework ?? "", Edit.Format ?? "", inputSchema, outputSchema, metrics), ct);
            if (updated.IsSuccess)
            {
                this.Flash("The metadata was saved.");
                return RedirectToPage(new { id = Id });
            }

            if (updated.Error!.Kind is not ErrorKind.Validation)
            {
                return Done(updated.Error, "", null);
            }

            ModelState.AddError<EditInput>(updated.Error, nameof(Edit));
        }

        EditOpen = true;
        return await LoadAsync(ct, keepEdit: true) ?? Page();
    }

    public async Task<IActionResult> OnPostRemoveAliasAsync(string alias, CancellationToken ct) =>
        Done(await models.RemoveAliasAsync(currentUser.Id, Id, alias, ct), $"The alias “{alias}” was removed; its version stays.", null);

    public async Task<IActionResult> OnPostPublicAsync(bool isPublic, CancellationToken ct)
    {
        var changed = await models.SetPublicAsync(currentUser.Id, Id, isPublic, ct);
        return Done(changed.IsSuccess ? Result.Success : changed.Error!,
            isPublic ? "The model is in the public catalog: every signed-in user can read it." : "The model left the public catalog.", null);
    }

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        var name = (await models.GetModelAsync(currentUser.Id, Id, ct)).Value?.Name;
        var deleted = await models.DeleteAsync(currentUser.Id, Id, ct);
        if (deleted.IsSuccess)
        {
            this.Flash($"Model “{name}” was deleted and its storage freed.");
            return RedirectToPage("Index");
        }

        return Done(deleted, "", null);
    }

    public async Task<IActionResult> OnPostShareAsync(CancellationToken ct)
    {
        var shared = await models.ShareAsync(currentUser.Id, Id, Share.ToRequest(), ct);
        if (shared.IsSuccess)
        {
            this.Flash($"Shared with {shared.Value!.GranteeName} ({shared.Value.Access}).");
            return RedirectToPage(new { id = Id });
        }

        if (shared.Error!.Kind is not ErrorKind.Validation)
        {
            return Done(shared.Error, "", null);
        }

        ModelState.Clear();
        ModelState.AddError<ShareInput>(shared.Error, nameof(Share), ShareInput.ErrorFields);
        return await LoadAsync(ct) ?? Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid shareId, CancellationToken ct) =>
        Done(await models.RevokeShareAsync(currentUser.Id, Id, shareId, ct), "The share was revoked.", null);

    /// <summary>Back to the page with the outcome: a hidden model is a 404, any other refusal the service's message as an alert.</summary>
    private IActionResult Done(Result result, string success, string? version) =>
        this.Outcome(result, success, "Model", new { id = Id, v = version });

    private async Task<IActionResult?> LoadAsync(CancellationToken ct, bool keepEdit = false)
    {
        var found = await models.GetModelAsync(currentUser.Id, Id, ct);
        if (!found.IsSuccess)
        {
            return NotFound();
        }

        Info = found.Value!;
        if (!keepEdit)
        {
            Edit = new EditInput
            {
                Description = Info.Description, License = Info.License, Tags = string.Join(", ", Info.Tags), Framework = Info.Framework,
                Format = Info.Format, Metrics = JsonBox.Show(Info.Metrics), InputSchema = JsonBox.Show(Info.InputSchema),
                OutputSchema = JsonBox.Show(Info.OutputSchema),
            };
        }

        var access = await models.AccessOfAsync(currentUser.Id, Id, ct);
        CanManage = access == DatasetAccess.Manage;
        CanWrite = access >= DatasetAccess.Write;
        Versions = (await models.ListVersionsAsync(currentUser.Id, Id, ct)).Value ?? [];
        var files = await models.ListFilesAsync(currentUser.Id, Id, SelectedVersion, null, After, FilePageSize, ct);
        Files = files.Value;
        FilesError = files.Error?.Message;
        if (CanManage && (await models.ListSharesAsync(currentUser.Id, Id, ct)).Value is { } shares)
        {
            Shares = shares;
        }

        return null;
    }

    /// <summary>Metrics as rows of a table: name and value as written (numbers, strings, booleans).</summary>
    public IEnumerable<(string Name, string Value)> MetricRows() =>
        Info.Metrics is { ValueKind: JsonValueKind.Object } metrics
            ? metrics.EnumerateObject().Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))
            : [];

    public static string Pretty(JsonElement schema) => JsonBox.Show(schema)!;

    /// <summary>The API address of a file, each segment escaped and the slashes kept.</summary>
    public string FileUrl(string version, string path) =>
        $"/api/v1/models/{Id}/versions/{Uri.EscapeDataString(version)}/files/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    public string Link(string? version, string? after = null) => Url.Page("Details", new { id = Id, v = version, after })!;

    public sealed class EditInput
    {
        public string? Description { get; set; }

        public string? License { get; set; }

        /// <summary>Comma-separated.</summary>
        public string? Tags { get; set; }

        public string? Framework { get; set; }

        public string? Format { get; set; }

        /// <summary>JSON object texts; emptied to clear.</summary>
        public string? Metrics { get; set; }

        public string? InputSchema { get; set; }

        public string? OutputSchema { get; set; }
    }

    public sealed class AliasInput
    {
        /// <summary>The alias to set or move ("production").</summary>
        public string? Name { get; set; }

        /// <summary>The version number it should name.</summary>
        public string? Version { get; set; }
    }
}
