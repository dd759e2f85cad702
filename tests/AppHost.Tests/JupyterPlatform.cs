using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Tests;

/// <summary>
/// One real platform (process backend, Debian's Jupyter) shared by the notebook end-to-end tests, so they pay for one
/// start. Tests in the collection run one after another and each signs up users of its own. The reconciler's lease is
/// short (10 s), so the crash test's restarted Workers take over a row the killed one held without waiting minutes.
/// </summary>
public sealed class JupyterPlatform : IAsyncLifetime
{
    public const string Collection = "platform with Jupyter";
    private readonly string _dataDirectory = StartedPlatform.NewDataDirectory();
    private StartedPlatform? _platform;

    public StartedPlatform Platform => _platform ?? throw new InvalidOperationException("The platform has not started.");

    public Uri Url => Platform.Url;

    /// <summary>The platform admin: the first user, signed up as the platform starts (tests that need an admin use it).</summary>
    public PlatformSession Admin { get; private set; } = null!;

    /// <summary>A deployment's workspace on the process backend ({data}/workspaces/{id}).</summary>
    public string WorkspaceOf(Guid deploymentId) => Path.Combine(_dataDirectory, "workspaces", deploymentId.ToString());

    /// <summary>Waits until the deployment's Jupyter has ended and its workspace is removed (after a delete).</summary>
    public async Task WaitUntilGoneAsync(Guid deploymentId, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (JupyterProcesses.Of(deploymentId).Count > 0 || Directory.Exists(WorkspaceOf(deploymentId)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"deployment {deploymentId} was not removed within {timeout.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists("/usr/bin/jupyter-notebook"), "Jupyter is missing: install the Debian packages jupyter-notebook python3-ipykernel (.ci/run does).");
        // Three tests wait on this one start: it may take its time on a busy machine rather than fail all three.
        _platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort(), new Dictionary<string, string>
        {
            ["Platform__Deployments__Reconciler__Lease"] = "00:00:10",
            ["AppHost__HealthTimeoutSeconds"] = "240",
            // The process backend does not enforce GPUs; the node declares two so GPU jobs can be placed (and budgeted).
            ["Platform__Jobs__Node__Gpus"] = "2",
        }, readyTimeout: TimeSpan.FromMinutes(5));
        Admin = await PlatformSession.SignUpAsync(Url, "platform-admin@example.test");
    }

    public async Task DisposeAsync()
    {
        Admin?.Dispose();
        if (_platform is not null)
        {
            var code = await _platform.StopAsync(TimeSpan.FromSeconds(30));
            var leftovers = _platform.Leftovers();
            await _platform.DisposeAsync();
            // A failed test may leave its notebook running (workloads outlive the platform by design): not on this machine.
            foreach (var pid in Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Select(n => int.TryParse(n, out var p) ? p : 0)
                .Where(p => p > 0 && Unix.CommandLine(p).Contains(_dataDirectory, StringComparison.Ordinal)))
            {
                Unix.Signal(pid, Unix.SIGKILL);
            }

            Assert.Equal(0, code);
            Assert.Empty(leftovers);
        }

        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A folder still owned by the postgres user is swept by later runs; not worth a failure here.
        }
    }
}

[CollectionDefinition(JupyterPlatform.Collection)]
public sealed class JupyterPlatformCollection : ICollectionFixture<JupyterPlatform>;

/// <summary>A signed-in person's HTTP client (the session cookie in <see cref="Cookies"/>) and the deployment calls the tests make.</summary>
public sealed partial class PlatformSession(HttpClient http, CookieContainer cookies) : IDisposable
{
    public const string Password = "e2e password 2026";

    public HttpClient Http => http;

    public CookieContainer Cookies => cookies;

    /// <summary>Registers on the page; the cookie container then holds the session.</summary>
    public static async Task<PlatformSession> SignUpAsync(Uri url, string email)
    {
        var cookies = new CookieContainer();
        var http = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = url,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var registered = await PostFormAsync(http, "/Account/Register", new()
        {
            ["Input.Email"] = email,
            ["Input.DisplayName"] = email.Split('@')[0],
            ["Input.Password"] = Password,
            ["Input.ConfirmPassword"] = Password,
        });
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        return new PlatformSession(http, cookies);
    }

    /// <summary>Posts a page's form with the antiforgery token read from <paramref name="page"/> (default: the action).</summary>
    public static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string action, Dictionary<string, string> fields, string? page = null)
    {
        var form = await client.GetStringAsync(page ?? action);
        fields["__RequestVerificationToken"] = AntiforgeryPattern().Match(form).Groups[1].Value;
        return await client.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    /// <summary>Creates a Jupyter deployment of the Development environment through the API; returns its id.</summary>
    public async Task<Guid> CreateJupyterAsync(string title, string password)
    {
        var created = await http.PostAsJsonAsync("/api/v1/deployments", new { module = "development", service = "jupyter", title, password });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    public async Task<JsonElement> GetAsync(Guid id) => await http.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}");

    public async Task<IReadOnlyList<(string State, string Message)>> EventsAsync(Guid id) =>
        (await http.GetFromJsonAsync<JsonElement>($"/api/v1/deployments/{id}/events?pageSize=100")).GetProperty("items").EnumerateArray()
            .Select(e => (e.GetProperty("state").GetString()!, e.GetProperty("message").GetString()!)).ToList();

    public async Task PostAsync(string path)
    {
        var response = await http.PostAsync(path, null);
        Assert.True(response.IsSuccessStatusCode, $"POST {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Waits until the deployment is observed in <paramref name="observed"/> for its latest desire; fails at once on "failed".</summary>
    public async Task<JsonElement> WaitForAsync(Guid id, string observed, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var d = await GetAsync(id);
            var state = d.GetProperty("observed").GetString();
            if (state == observed && d.GetProperty("observedGeneration").GetInt64() == d.GetProperty("generation").GetInt64())
            {
                return d;
            }

            Assert.False(state == "failed" && observed != "failed", $"deployment failed: {d}\nevents:\n{string.Join('\n', await EventsAsync(id))}");
            Assert.True(DateTime.UtcNow < deadline, $"not {observed} within {timeout.TotalSeconds:0} s: {d}\nevents:\n{string.Join('\n', await EventsAsync(id))}");
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the deployment is gone for its owner too (404), which Workers record after removing it.</summary>
    public async Task WaitUntilDeletedAsync(Guid id, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while ((await http.GetAsync($"/api/v1/deployments/{id}")).StatusCode != HttpStatusCode.NotFound)
        {
            Assert.True(DateTime.UtcNow < deadline, $"deployment {id} still there after {timeout.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }

    public void Dispose() => http.Dispose();

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryPattern();
}
