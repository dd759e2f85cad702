using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Platform.AppHost.Tests;

/// <summary>
/// What a newcomer does on a fresh platform, against the real AppHost and its real children: register through the
/// pages, create an access key, call the API with it through Web's front door, run the SDK's whoami, revoke the key,
/// and stop the platform with SIGTERM leaving nothing running.
/// </summary>
public sealed partial class UserJourneyTests : IDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private readonly string _dataDirectory = StartedPlatform.NewDataDirectory();

    [Fact]
    public async Task Register_CreateKey_CallTheApiAndTheSdkThroughTheFrontDoor_ThenSigtermLeavesNothing()
    {
        await using var platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        var cookies = new CookieContainer();
        using var browser = new HttpClient(new HttpClientHandler { CookieContainer = cookies, AllowAutoRedirect = false })
        {
            BaseAddress = platform.Url,
            Timeout = TimeSpan.FromSeconds(30),
        };

        // Register: the first user becomes admin and is signed in.
        const string email = "newcomer@example.test";
        var registered = await PostFormAsync(browser, "/Account/Register", new()
        {
            ["Input.Email"] = email,
            ["Input.DisplayName"] = "Newcomer",
            ["Input.Password"] = "first steps 2026",
            ["Input.ConfirmPassword"] = "first steps 2026",
        });
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);

        // The session cookie Web issued is accepted by Api behind the front door (shared data-protection keys).
        var meBySession = await browser.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.True(meBySession.GetProperty("user").GetProperty("isPlatformAdmin").GetBoolean());

        // Create a key on the Keys page; it is shown once.
        var created = await PostFormAsync(browser, "/Keys?handler=Create", new()
        {
            ["Input.Name"] = "journey",
            ["Input.Scope"] = "full",
            ["Input.ExpiresInDays"] = "30",
        }, page: "/Keys");
        var html = await created.Content.ReadAsStringAsync();
        var key = KeyPattern().Match(html).Groups[1].Value;
        Assert.StartsWith("plat_", key);

        // The API with the key, through the front door.
        using var sdkLike = new HttpClient { BaseAddress = platform.Url };
        sdkLike.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var me = await sdkLike.GetFromJsonAsync<JsonElement>("/api/v1/me");
        Assert.Equal(email, me.GetProperty("user").GetProperty("email").GetString());
        Assert.Equal("journey", me.GetProperty("accessKey").GetProperty("name").GetString());

        // The SDK's whoami, as a notebook would run it.
        var (code, output) = await RunSdkAsync(platform.Url, key, "whoami", "--json");
        Assert.True(code == 0, output);
        Assert.Equal(email, JsonDocument.Parse(output).RootElement.GetProperty("user").GetProperty("email").GetString());

        // Revoked, the same key is refused, and the SDK says why.
        var keyId = me.GetProperty("accessKey").GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await browser.DeleteAsync($"/api/v1/access-keys/{keyId}")).StatusCode);
        var (revokedCode, revokedOutput) = await RunSdkAsync(platform.Url, key, "whoami");
        Assert.Equal(1, revokedCode);
        Assert.Contains("revoked", revokedOutput);

        Assert.Equal(0, await platform.StopAsync(StopTimeout));
        Assert.Empty(platform.Leftovers());
    }

    [Fact]
    public async Task DatasetSharedReadOnly_IsDownloadedWithTheSdk_UntilRevoked_AndDeletingFreesTheStorage()
    {
        await using var platform = await StartedPlatform.StartAsync(_dataDirectory, StartedPlatform.FreePort());
        var (ownerKey, ownerHttp) = await SignUpWithKeyAsync(platform.Url, "owner@example.test");
        var (readerKey, _) = await SignUpWithKeyAsync(platform.Url, "reader@example.test");

        var folder = Directory.CreateTempSubdirectory("platform-journey-upload-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "images"));
        await File.WriteAllTextAsync(Path.Combine(folder, "labels.csv"), "file,label\nimages/a.bin,cat\n");
        await File.WriteAllBytesAsync(Path.Combine(folder, "images", "a.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(300_000));

        await AssertSdkAsync(platform.Url, ownerKey, "datasets", "create", "pets", "--description", "cats and dogs");
        await AssertSdkAsync(platform.Url, ownerKey, "datasets", "upload", "pets", folder, "--no-progress");
        await AssertSdkAsync(platform.Url, ownerKey, "datasets", "publish", "pets");
        var dataset = (await ownerHttp.GetFromJsonAsync<JsonElement>("/api/v1/datasets?search=pets")).GetProperty("items")[0];
        var accountId = dataset.GetProperty("accountId").GetGuid();
        Assert.Contains("shared pets with user reader@example.test (read)",
            await AssertSdkAsync(platform.Url, ownerKey, "datasets", "share", "pets", "--user", "reader@example.test"));
        Assert.Contains("reader@example.test\tread", await AssertSdkAsync(platform.Url, ownerKey, "datasets", "shares", "pets"));

        // The reader, in another account, lists and downloads version 1 with the SDK.
        Assert.Contains("pets", await AssertSdkAsync(platform.Url, readerKey, "datasets", "list"));
        var target = Directory.CreateTempSubdirectory("platform-journey-download-").FullName;
        await AssertSdkAsync(platform.Url, readerKey, "datasets", "download", "pets@1", target, "--no-progress");
        Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(folder, "images", "a.bin")), await File.ReadAllBytesAsync(Path.Combine(target, "images", "a.bin")));
        var (uploadRefused, uploadOutput) = await RunSdkAsync(platform.Url, readerKey, "datasets", "upload", "pets", folder, "--no-progress");
        Assert.True(uploadRefused != 0, uploadOutput);

        // Revoked: the reader's next call is refused.
        Assert.Contains("revoked read access of user reader@example.test to pets",
            await AssertSdkAsync(platform.Url, ownerKey, "datasets", "unshare", "pets", "reader@example.test"));
        var (afterRevoke, revokedOutput) = await RunSdkAsync(platform.Url, readerKey, "datasets", "files", "pets@1");
        Assert.Equal(1, afterRevoke);
        Assert.Contains("not found", revokedOutput, StringComparison.OrdinalIgnoreCase);

        // Deleting the dataset frees the account's storage at once.
        var before = await ownerHttp.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{accountId}/storage");
        Assert.True(before.GetProperty("usedBytes").GetInt64() > 300_000);
        await AssertSdkAsync(platform.Url, ownerKey, "datasets", "delete", "pets", "--yes");
        var after = await ownerHttp.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{accountId}/storage");
        Assert.Equal(0, after.GetProperty("usedBytes").GetInt64());

        Assert.Equal(0, await platform.StopAsync(StopTimeout));
        Assert.Empty(platform.Leftovers());
        Directory.Delete(folder, recursive: true);
        Directory.Delete(target, recursive: true);
    }

    /// <summary>Registers on the page (signed in by the cookie the handler keeps) and creates a full key with that session.</summary>
    private static async Task<(string Key, HttpClient Session)> SignUpWithKeyAsync(Uri url, string email)
    {
        var session = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = url,
            Timeout = TimeSpan.FromSeconds(30),
        };
        var registered = await PostFormAsync(session, "/Account/Register", new()
        {
            ["Input.Email"] = email,
            ["Input.DisplayName"] = email.Split('@')[0],
            ["Input.Password"] = "journey password 7",
            ["Input.ConfirmPassword"] = "journey password 7",
        });
        Assert.Equal(HttpStatusCode.Redirect, registered.StatusCode);
        var created = await session.PostAsJsonAsync("/api/v1/access-keys", new { name = "journey", scope = "full" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return ((await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("key").GetString()!, session);
    }

    private static async Task<string> AssertSdkAsync(Uri url, string key, params string[] args)
    {
        var (code, output) = await RunSdkAsync(url, key, args);
        Assert.True(code == 0, $"plat {string.Join(' ', args)} exited {code}: {output}");
        return output;
    }

    private static async Task<HttpResponseMessage> PostFormAsync(
        HttpClient client, string action, Dictionary<string, string> fields, string? page = null)
    {
        var form = await client.GetStringAsync(page ?? action);
        fields["__RequestVerificationToken"] = AntiforgeryPattern().Match(form).Groups[1].Value;
        return await client.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    private static async Task<(int Code, string Output)> RunSdkAsync(Uri url, string key, params string[] args)
    {
        var python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = StartedPlatform.RepositoryRoot,
        };
        foreach (var arg in new[] { "-m", "platformsdk" }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["PYTHONPATH"] = Path.Combine(StartedPlatform.RepositoryRoot, "Notebook", "sdk");
        info.Environment["PLATFORM_API_URL"] = url.ToString();
        info.Environment["PLATFORM_API_KEY"] = key;
        info.Environment["PLATFORM_CONFIG"] = "/nonexistent/platform.json";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A folder still owned by the postgres user is cleaned by the next run's temp sweep; not worth a failure.
        }
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryPattern();

    [GeneratedRegex("id=\"new-key\"[^>]*value=\"(plat_[A-Za-z0-9_]+)\"")]
    private static partial Regex KeyPattern();
}
