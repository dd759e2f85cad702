using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Core.Persistence;
using Platform.Web.Extensions;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Datasets;

/// <summary>
/// One dataset: what it is, its versions and their files, the upload panel, publishing, deleting and shares.
/// Every action goes through <see cref="DatasetService"/>, which decides; the page only reads the caller's role and
/// shares to hide the controls that would be refused anyway.
/// </summary>
public sealed partial class DetailsModel(DatasetService datasets, CurrentUser currentUser, PlatformDbContext db) : PageModel, IArtifactPage
{
    public const int DefaultFilePageSize = 50;

    [BindProperty(SupportsGet = true)]
    public Guid Id { get; set; }

    /// <summary>"draft", "latest" or a number: the version whose files are listed.</summary>
    [BindProperty(SupportsGet = true, Name = "v")]
    public string? Version { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Prefix { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? After { get; set; }

    [BindProperty(SupportsGet = true)]
    public int? Limit { get; set; }

    [BindProperty]
    public ShareInput Share { get; set; } = new();

    public DatasetResponse Dataset { get; private set; } = null!;

    public string ArtifactName => Dataset.Name;

    public string ApiCollection => "datasets";

    public FilePage? Files { get; private set; }

    /// <summary>Why the selected version's files cannot be listed (a deleted version, say).</summary>
    public string? FilesError { get; private set; }

    public IReadOnlyList<int> Published { get; private set; } = [];

    public IReadOnlyList<ShareResponse> Shares { get; private set; } = [];

    public StorageUsage? Usage { get; private set; }

    public bool CanWrite { get; private set; }

    public bool CanManage { get; private set; }

    public string SelectedVersion => string.IsNullOrWhiteSpace(Version) ? (Dataset.LatestVersion is null ? "draft" : "latest") : Version.Trim();

    public async Task<IActionResult> OnGetAsync(CancellationToken ct) => await LoadAsync(ct) ?? Page();

    public async Task<IActionResult> OnPostPublishAsync(CancellationToken ct)
    {
        var published = await datasets.PublishAsync(currentUser.Id, Id, ct);
        return Done(published.IsSuccess ? Result.Success : published.Error!,
            published.IsSuccess ? $"Published version {published.Value!.Version}: it will never change." : "", published.Value?.Version);
    }

    public async Task<IActionResult> OnPostDeleteFileAsync(string path, CancellationToken ct) =>
        Done(await datasets.DeleteDraftFileAsync(currentUser.Id, Id, path, ct), $"“{path}” was removed from the draft.", "draft");

    public async Task<IActionResult> OnPostDeleteVersionAsync(string version, CancellationToken ct) =>
        Done(await datasets.DeleteVersionAsync(currentUser.Id, Id, version, ct), $"Version {version} was deleted.", null);

    public async Task<IActionResult> OnPostDeleteAsync(CancellationToken ct)
    {
        var name = (await datasets.GetAsync(currentUser.Id, Id, ct)).Value?.Name;
        var deleted = await datasets.DeleteAsync(currentUser.Id, Id, ct);
        if (deleted.IsSuccess)
        {
            this.Flash($"Dataset “{name}” was deleted and its storage freed.");
            return RedirectToPage("Index");
        }

        return Done(deleted, "", null);
    }

    public async Task<IActionResult> OnPostShareAsync(CancellationToken ct)
    {
        var shared = await datasets.ShareAsync(currentUser.Id, Id, Share.ToRequest(), ct);
        if (shared.IsSuccess)
        {
            this.Flash($"Shared with {shared.Value!.GranteeName} ({shared.Value.Access}).");
            return RedirectToPage(new { id = Id });
        }

        if (shared.Error!.Kind is ErrorKind.NotFound && !await VisibleAsync(ct))
        {
            return NotFound();
        }

        ModelState.Clear();
        ModelState.AddError<ShareInput>(shared.Error, nameof(Share), ShareInput.ErrorFields);
        return await LoadAsync(ct) ?? Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(Guid shareId, CancellationToken ct) =>
        Done(await datasets.RevokeShareAsync(currentUser.Id, Id, shareId, ct), "The share was revoked.", null);

    /// <summary>
    /// Back to the page with the outcome: a hidden dataset is a 404, any other refusal (a read-only sharee publishing,
    /// an empty draft) the service's own message as an alert.
    /// </summary>
    private IActionResult Done(Result result, string success, string? version) =>
        this.Outcome(result, success, "Dataset", new { id = Id, v = version });

    private async Task<bool> VisibleAsync(CancellationToken ct) => (await datasets.GetAsync(currentUser.Id, Id, ct)).IsSuccess;

    /// <summary>Loads everything the page shows; a NotFound result when the dataset is not visible to the user.</summary>
    private async Task<IActionResult?> LoadAsync(CancellationToken ct)
    {
        var found = await datasets.GetAsync(currentUser.Id, Id, ct);
        if (!found.IsSuccess)
        {
            return NotFound();
        }

        Dataset = found.Value!;
        var userId = currentUser.Id;
        // Only to show or hide controls: Core decides every action with the same rule.
        var access = await datasets.AccessOfAsync(userId, Id, ct);
        CanManage = access == DatasetAccess.Manage;
        CanWrite = access >= DatasetAccess.Write;

        Published = await db.ArtifactVersions.AsNoTracking().Where(v => v.ArtifactId == Id && v.Number != null)
            .OrderBy(v => v.Number).Select(v => v.Number!.Value).ToListAsync(ct);

        var limit = Math.Clamp(Limit ?? DefaultFilePageSize, 1, DatasetService.MaxFilePageSize);
        var files = await datasets.ListFilesAsync(userId, Id, SelectedVersion, Prefix, After, limit, ct);
        Files = files.Value;
        FilesError = files.Error?.Message;
        await LoadBrowseAsync(ct);

        // Storage is shown to members of the owning account only; UsageAsync refuses everyone else.
        if ((await datasets.UsageAsync(userId, Dataset.AccountId, ct)).Value is { } usage)
        {
            Usage = usage;
        }

        if (CanManage && (await datasets.ListSharesAsync(userId, Id, ct)).Value is { } shares)
        {
            Shares = shares;
        }

        return null;
    }

    /// <summary>The API address of a file, each segment escaped and the slashes kept.</summary>
    public string FileUrl(string version, string path) =>
        $"/api/v1/datasets/{Id}/versions/{Uri.EscapeDataString(version)}/files/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}";

    /// <summary>The address of this page with some query values changed (null removes one).</summary>
    public string Link(string? version = null, string? after = null, bool keepVersion = true) =>
        Url.Page("Details", new { id = Id, v = keepVersion ? version ?? Version : version, prefix = Prefix, after, limit = Limit })!;
}
