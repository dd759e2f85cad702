using System.Net;
using System.Text.RegularExpressions;

namespace Platform.Web.Tests.Pages;

/// <summary>
/// Drives the pages as a browser without JavaScript would: GET a page, take the antiforgery token from its form,
/// post the form. Keeps its cookies; redirects come back as they are, so tests can assert where they lead.
/// </summary>
public sealed partial class Browser(HttpClient client)
{
    public const string Password = "correct horse 42";

    public HttpClient Client => client;

    public string Email { get; private set; } = "";

    public async Task<HtmlPage> GetAsync(string url) => await HtmlPage.ReadAsync(await client.GetAsync(url));

    /// <summary>Posts a form to <paramref name="action"/>, with the token of the form on <paramref name="formPage"/> (default: the action's page).</summary>
    public async Task<HtmlPage> PostAsync(string action, IEnumerable<KeyValuePair<string, string>> fields, string? formPage = null)
    {
        var page = await GetAsync(formPage ?? FormPageOf(action));
        var token = page.AntiforgeryToken
            ?? throw new InvalidOperationException($"No antiforgery token on {formPage ?? action} ({(int)page.Status}).");
        var form = fields.Append(KeyValuePair.Create("__RequestVerificationToken", token));
        return await HtmlPage.ReadAsync(await client.PostAsync(action, new FormUrlEncodedContent(form)));
    }

    public Task<HtmlPage> PostAsync(string action, params (string Name, string Value)[] fields) =>
        PostAsync(action, fields.Select(f => KeyValuePair.Create(f.Name, f.Value)));

    public async Task<HtmlPage> RegisterAsync(string email, string name, string? token = null, string password = Password)
    {
        Email = email;
        var register = token is null ? "/Account/Register" : $"/Account/Register?token={Uri.EscapeDataString(token)}";
        var page = await PostAsync(register,
            ("Input.Email", email), ("Input.DisplayName", name), ("Input.Password", password), ("Input.ConfirmPassword", password),
            ("Token", token ?? ""));
        Assert.True(page.Status == HttpStatusCode.Redirect, $"registration of {email} failed: {page.Text}");
        return page;
    }

    public async Task<HtmlPage> LoginAsync(string email, string password = Password)
    {
        Email = email;
        return await PostAsync("/Account/Login", ("Input.Email", email), ("Input.Password", password));
    }

    /// <summary>The page a form lives on: its action without ?handler= (other query values, like a token, stay).</summary>
    private static string FormPageOf(string action)
    {
        var q = action.IndexOf('?');
        if (q < 0)
        {
            return action;
        }

        var kept = string.Join('&', action[(q + 1)..].Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !p.StartsWith("handler=", StringComparison.OrdinalIgnoreCase)));
        return kept.Length == 0 ? action[..q] : $"{action[..q]}?{kept}";
    }
}

public sealed partial record HtmlPage(HttpStatusCode Status, string Html, Uri? Location)
{
    public static async Task<HtmlPage> ReadAsync(HttpResponseMessage response)
    {
        using (response)
        {
            return new HtmlPage(response.StatusCode, await response.Content.ReadAsStringAsync(), response.Headers.Location);
        }
    }

    /// <summary>What a reader sees: tags dropped, entities decoded, white space collapsed; for "the page says X" assertions.</summary>
    public string Text => Spaces().Replace(WebUtility.HtmlDecode(Tags().Replace(Html, "")), " ");

    public string? AntiforgeryToken => TokenPattern().Match(Html) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The message shown beside an input (its asp-validation-for span), empty when there is none.</summary>
    public string FieldError(string field)
    {
        var span = Regex.Match(Html, $"<span[^>]*data-valmsg-for=\"{Regex.Escape(field)}\"[^>]*>(.*?)</span>", RegexOptions.Singleline);
        return span.Success ? WebUtility.HtmlDecode(span.Groups[1].Value).Trim() : "";
    }

    /// <summary>The decoded text from the first <paramref name="start"/> to the next <paramref name="end"/>; empty when absent.</summary>
    public string Fragment(string start, string end)
    {
        var from = Html.IndexOf(start, StringComparison.Ordinal);
        var to = from < 0 ? -1 : Html.IndexOf(end, from, StringComparison.Ordinal);
        return to < 0 ? "" : WebUtility.HtmlDecode(Html[from..to]);
    }

    /// <summary>The whole tag of the input with this id; empty when there is none.</summary>
    public string InputTag(string id) =>
        Regex.Match(Html, $"<input[^>]*\\sid=\"{Regex.Escape(id)}\"[^>]*>", RegexOptions.Singleline).Value;

    /// <summary>The value attribute of the input with this id.</summary>
    public string? InputValue(string id)
    {
        var value = Regex.Match(InputTag(id), "\\svalue=\"([^\"]*)\"");
        return value.Success ? WebUtility.HtmlDecode(value.Groups[1].Value) : null;
    }

    [GeneratedRegex("<[^>]+>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex TokenPattern();
}
