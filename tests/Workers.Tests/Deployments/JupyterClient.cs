using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// Talks to a running notebook server as a browser does: GET the login page for the _xsrf cookie, POST the password
/// with it, then use the session cookie, echoing _xsrf in X-XSRFToken on writes.
/// </summary>
public sealed class JupyterClient : IDisposable
{
    private readonly CookieContainer _cookies = new();
    private readonly HttpClient _http;
    private readonly string _base;

    public JupyterClient(string address, Guid deploymentId)
    {
        _http = new HttpClient(new HttpClientHandler { CookieContainer = _cookies, AllowAutoRedirect = false }) { Timeout = TimeSpan.FromSeconds(30) };
        _base = $"{address}/ide/{deploymentId}/";
    }

    public Task<HttpResponseMessage> GetAsync(string path) => _http.GetAsync(_base + path);

    public async Task<HttpStatusCode> LoginAsync(string password)
    {
        (await _http.GetAsync(_base + "login")).Dispose();
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["_xsrf"] = Xsrf(), ["password"] = password });
        using var response = await _http.PostAsync(_base + "login", form);
        return response.StatusCode;
    }

    public async Task<HttpStatusCode> PutTextAsync(string path, string text)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, _base + "api/contents/" + path)
        {
            Content = JsonContent.Create(new { type = "file", format = "text", content = text }),
        };
        request.Headers.Add("X-XSRFToken", Xsrf());
        using var response = await _http.SendAsync(request);
        return response.StatusCode;
    }

    public async Task<string?> GetTextAsync(string path)
    {
        using var response = await _http.GetAsync(_base + "api/contents/" + path + "?type=file&format=text&content=1");
        return response.IsSuccessStatusCode ? (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("content").GetString() : null;
    }

    private string Xsrf() => _cookies.GetAllCookies().FirstOrDefault(c => c.Name == "_xsrf")?.Value ?? "";

    public void Dispose() => _http.Dispose();
}
