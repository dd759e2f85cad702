using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Html;

namespace Platform.Web.Extensions;

public static partial class HtmlExtensions
{
    /// <summary>A time in UTC that site.js rewrites into the reader's own time zone; "never" for none.</summary>
    public static IHtmlContent Time(DateTimeOffset? value, string none = "never")
    {
        if (value is not { } time)
        {
            return new HtmlString($"<span class=\"text-body-secondary\">{HtmlEncoder.Default.Encode(none)}</span>");
        }

        var iso = time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var text = time.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        return new HtmlString($"<time datetime=\"{iso}\" title=\"{iso}\">{text} UTC</time>");
    }

    /// <summary>Plain text with its web addresses made clickable; every piece is encoded, so the text cannot inject markup.</summary>
    public static IHtmlContent Linkify(string text)
    {
        // Addresses are found in the raw text: the encoder writes line breaks as entities, which an address
        // pattern run over encoded text would swallow along with the next line.
        var html = new StringBuilder();
        var last = 0;
        foreach (Match match in UrlPattern().Matches(text))
        {
            var url = HtmlEncoder.Default.Encode(match.Value);
            html.Append(HtmlEncoder.Default.Encode(text[last..match.Index]))
                .Append($"<a href=\"{url}\" rel=\"noreferrer\">{url}</a>");
            last = match.Index + match.Length;
        }

        return new HtmlString(html.Append(HtmlEncoder.Default.Encode(text[last..])).ToString());
    }

    public static string RoleLabel(string role) => role switch
    {
        "master" => "Master",
        "member" => "Member",
        "viewer" => "Viewer",
        _ => role,
    };

    [GeneratedRegex(@"https?://[^\s<>""]+")]
    private static partial Regex UrlPattern();
}
