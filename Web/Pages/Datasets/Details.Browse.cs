using Microsoft.AspNetCore.Mvc;
using Platform.Core.Datasets;

namespace Platform.Web.Pages.Datasets;

/// <summary>
/// Browsing on the dataset page: a preview of the file whose name was clicked, zip downloads of the version or of the
/// filtered folder, and the comparison of two versions. Previews are rendered by Razor, which encodes every character
/// of user content; images are shown only through the API's inline address, which serves verified raster types alone.
/// </summary>
public sealed partial class DetailsModel
{
    public const int DiffPageSize = 100;

    /// <summary>The path of the file to preview, in the selected version.</summary>
    [BindProperty(SupportsGet = true)]
    public string? Preview { get; set; }

    /// <summary>The versions to compare ('draft', 'latest' or numbers); both given: the diff is shown.</summary>
    [BindProperty(SupportsGet = true)]
    public string? From { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? To { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? DiffAfter { get; set; }

    public FilePreview? FilePreview { get; private set; }

    public string? PreviewError { get; private set; }

    public VersionDiff? Diff { get; private set; }

    public string? DiffError { get; private set; }

    private async Task LoadBrowseAsync(CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(Preview))
        {
            var preview = await datasets.PreviewAsync(currentUser.Id, Id, SelectedVersion, Preview, ct);
            FilePreview = preview.Value;
            PreviewError = preview.Error?.Message;
        }

        if (!string.IsNullOrWhiteSpace(From) && !string.IsNullOrWhiteSpace(To))
        {
            var diff = await datasets.DiffAsync(currentUser.Id, Id, From.Trim(), To.Trim(), DiffAfter, DiffPageSize, ct);
            Diff = diff.Value;
            DiffError = diff.Error?.Message;
        }
    }

    /// <summary>The API address of the zip of a version, or of the files under <paramref name="prefix"/>.</summary>
    public string ArchiveUrl(string version, string? prefix = null) =>
        $"/api/v1/datasets/{Id}/versions/{Uri.EscapeDataString(version)}/archive"
        + (string.IsNullOrEmpty(prefix) ? "" : $"?prefix={Uri.EscapeDataString(prefix)}");

    /// <summary>The inline address of an image: the API serves it inline only when its bytes are PNG, JPEG, GIF or WebP.</summary>
    public string InlineUrl(string version, string path) => $"{FileUrl(version, path)}?inline=true";

    /// <summary>This page showing the preview of <paramref name="path"/>, the listing as it is.</summary>
    public string PreviewLink(string path) =>
        Url.Page("Details", null, new { id = Id, v = Version, prefix = Prefix, after = After, limit = Limit, preview = path }, null, null, "preview")!;

    /// <summary>This page comparing <see cref="From"/> with <see cref="To"/> from <paramref name="diffAfter"/> on.</summary>
    public string CompareLink(string? diffAfter) =>
        Url.Page("Details", null, new { id = Id, v = Version, prefix = Prefix, from = From, to = To, diffAfter }, null, null, "compare")!;

    /// <summary>The versions a comparison can name: the draft and every published number, newest first.</summary>
    public IEnumerable<(string Value, string Label)> CompareChoices() =>
        Published.OrderDescending().Select(n => (n.ToString(System.Globalization.CultureInfo.InvariantCulture), $"v{n}")).Append(("draft", "Draft"));
}
