using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Web.Extensions;

namespace Platform.Web.Pages.Datasets;

/// <summary>
/// What the artifact partials (_Upload, _Shares) need from the page showing them, so the dataset and model pages
/// share one upload panel and one shares section.
/// </summary>
public interface IArtifactPage
{
    Guid Id { get; }

    /// <summary>The artifact's name, for confirmations.</summary>
    string ArtifactName { get; }

    /// <summary>"datasets" or "models": the API group its files are uploaded to.</summary>
    string ApiCollection { get; }

    /// <summary>The shares; empty for anyone who may not manage them.</summary>
    IReadOnlyList<ShareResponse> Shares { get; }

    ShareInput Share { get; }
}

public sealed class ShareInput
{
    /// <summary>An e-mail address, or an account id to share with all of its members.</summary>
    public string? Grantee { get; set; }

    public string? Access { get; set; } = "read";

    /// <summary>Core's share field errors ("email", "accountId") both belong beside the one Grantee box.</summary>
    public static readonly IReadOnlyDictionary<string, string> ErrorFields =
        new Dictionary<string, string> { ["email"] = nameof(Grantee), ["accountId"] = nameof(Grantee) };

    /// <summary>One box for either: an account id is a GUID, anything else is taken as an e-mail address.</summary>
    public Platform.Core.Datasets.CreateShareRequest ToRequest()
    {
        var grantee = Grantee?.Trim();
        return Guid.TryParse(grantee, out var accountId)
            ? new(null, accountId, Access)
            : new(grantee, null, Access);
    }
}

public static class ArtifactPageOutcome
{
    /// <summary>
    /// Back to the artifact's page with the outcome: an artifact the caller cannot see (Core's "Dataset/Model … not
    /// found") is a 404; any other refusal is the service's own message as an alert.
    /// </summary>
    public static IActionResult Outcome(this PageModel page, Result result, string success, string hiddenNoun, object routeValues)
    {
        if (result.Error is { Kind: ErrorKind.NotFound } && result.Error.Message.StartsWith(hiddenNoun, StringComparison.Ordinal))
        {
            return page.NotFound();
        }

        if (result.IsSuccess)
        {
            page.Flash(success);
        }
        else
        {
            page.FlashError(result.Error!.Message);
        }

        return page.RedirectToPage(routeValues);
    }
}
