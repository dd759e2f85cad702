using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Tests.Fixtures;

namespace Platform.AppHost.Tests;

/// <summary>
/// Jupyter (notebook 6 / jupyter_server 1) as its own web page and client use it, through the platform's front door at
/// <c>/ide/{id}/</c>: the password login with its <c>_xsrf</c> cookie and form field, the REST API with the
/// <c>X-XSRFToken</c> header, and the kernel's websocket speaking the Jupyter messaging protocol.
/// </summary>
public sealed partial class JupyterThroughTheFrontDoor(PlatformSession session, Guid deploymentId)
{
    private string Base => $"/ide/{deploymentId}/";

    /// <summary>Logs in with the deployment's password, unless Jupyter already knows this session (its login page redirects then).</summary>
    public async Task LoginAsync(string password)
    {
        var page = await session.Http.GetAsync($"{Base}login");
        if (page.StatusCode == HttpStatusCode.Found)
        {
            return;
        }

        Assert.True(page.StatusCode == HttpStatusCode.OK, $"GET {Base}login: {(int)page.StatusCode}");
        var xsrf = XsrfField().Match(await page.Content.ReadAsStringAsync()).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(xsrf), "no _xsrf field on Jupyter's login page");
        var login = await session.Http.PostAsync($"{Base}login?next={Uri.EscapeDataString(Base + "tree")}",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["_xsrf"] = xsrf, ["password"] = password }));
        Assert.True(login.StatusCode == HttpStatusCode.Found, $"Jupyter's login answered {(int)login.StatusCode}: {await login.Content.ReadAsStringAsync()}");
    }

    public Task<HttpResponseMessage> GetAsync(string apiPath) => session.Http.GetAsync(Base + apiPath);

    /// <summary>A state-changing call: Jupyter wants the _xsrf cookie echoed in a header when signed in by cookie.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string apiPath, object? body = null)
    {
        var request = new HttpRequestMessage(method, Base + apiPath) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Add("X-XSRFToken", Xsrf());
        return session.Http.SendAsync(request);
    }

    public async Task<string> StartKernelAsync()
    {
        var started = await SendAsync(HttpMethod.Post, "api/kernels", new { name = "python3" });
        Assert.True(started.StatusCode == HttpStatusCode.Created, $"starting a kernel: {(int)started.StatusCode} {await started.Content.ReadAsStringAsync()}");
        return (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    /// <summary>Sends an execute_request on the shell channel and returns the execute_result's text/plain.</summary>
    public async Task<string> ExecuteAsync(string kernelId, string code, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        using var socket = new ClientWebSocket();
        socket.Options.Cookies = session.Cookies;
        var sessionId = Guid.NewGuid().ToString("N");
        var address = new UriBuilder(new Uri(session.Http.BaseAddress!, $"{Base}api/kernels/{kernelId}/channels?session_id={sessionId}")) { Scheme = "ws" }.Uri;
        await socket.ConnectAsync(address, cancel.Token);

        var messageId = await JupyterKernelSocket.SendAsync(socket, "execute_request",
            new { code, silent = false, store_history = true, user_expressions = new { }, allow_stdin = false, stop_on_error = true }, sessionId, cancel.Token);

        var seen = new List<string>();
        while (true)
        {
            var root = await JupyterKernelSocket.ReceiveAsync(socket, cancel.Token);
            var type = JupyterKernelSocket.TypeOf(root);
            seen.Add($"{root.GetProperty("channel").GetString()}/{type}");
            if (JupyterKernelSocket.ParentOf(root) == messageId)
            {
                if (type == "execute_result")
                {
                    var text = root.GetProperty("content").GetProperty("data").GetProperty("text/plain").GetString()!;
                    await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
                    return text;
                }

                Assert.False(type == "error", $"the kernel raised: {root.GetProperty("content")}");
            }

            Assert.True(seen.Count < 100, "no execute_result among: " + string.Join(", ", seen));
        }
    }

    private string Xsrf() =>
        session.Cookies.GetCookies(new Uri(session.Http.BaseAddress!, Base))["_xsrf"]?.Value
            ?? throw new InvalidOperationException("No _xsrf cookie: log in first.");

    [GeneratedRegex("name=\"_xsrf\" value=\"([^\"]+)\"")]
    private static partial Regex XsrfField();
}
