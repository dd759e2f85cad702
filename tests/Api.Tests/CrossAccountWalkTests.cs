using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

/// <summary>
/// Walks every route in the OpenAPI document as an outsider (Bob) aimed at another account's resources (Alice's)
/// and asserts that nothing of Alice's is read or changed. New routes are covered as soon as they are mapped;
/// a route with a path parameter this walker has no sample for fails the test until one is added below.
/// </summary>
public sealed class CrossAccountWalkTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    [Fact]
    public async Task EveryRoute_AsAnotherAccountsUser_ReadsAndChangesNothingOfTheirs()
    {
        var admin = await factory.NamedUserAsync("admin"); // the first user is platform admin; Alice and Bob are not
        var alice = await factory.NamedUserAsync("alice");
        var aliceMember = await factory.NamedUserAsync("alicemember");
        var bob = await factory.NamedUserAsync("bob");
        await factory.JoinAsync(alice, alice.AccountId, aliceMember, "member");
        var invitation = await (await alice.Client.PostAsJsonAsync($"/api/v1/accounts/{alice.AccountId}/invitations",
            new { email = "pending@example.test", role = "viewer" })).Content.ReadFromJsonAsync<JsonElement>();
        var aliceKeyId = (await alice.Client.GetFromJsonAsync<JsonElement>("/api/v1/access-keys")).EnumerateArray().First().GetProperty("id").GetGuid();
        var dataset = await (await alice.Client.PostAsJsonAsync("/api/v1/datasets", new { name = "secret-data" })).Content.ReadFromJsonAsync<JsonElement>();
        var datasetId = dataset.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PutAsync($"/api/v1/datasets/{datasetId}/draft/files/data/a.csv",
            new ByteArrayContent("x,y\n1,2\n"u8.ToArray()))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PostAsync($"/api/v1/datasets/{datasetId}/draft/publish", null)).StatusCode);
        var share = await (await alice.Client.PostAsJsonAsync($"/api/v1/datasets/{datasetId}/shares", new { email = admin.Email, access = "read" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var model = await (await alice.Client.PostAsJsonAsync("/api/v1/models", new { name = "secret-model", framework = "pytorch" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var modelId = model.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PutAsync($"/api/v1/models/{modelId}/draft/files/model.bin",
            new ByteArrayContent([1, 2, 3]))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PostAsync($"/api/v1/models/{modelId}/draft/publish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PutAsJsonAsync($"/api/v1/models/{modelId}/aliases/production", new { version = "1" })).StatusCode);
        var modelShare = await (await alice.Client.PostAsJsonAsync($"/api/v1/models/{modelId}/shares", new { email = admin.Email, access = "read" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var upload = await (await alice.Client.PostAsJsonAsync($"/api/v1/datasets/{datasetId}/draft/uploads", new { path = "big.bin", size = 20_000_000 }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PutAsync($"/api/v1/datasets/{datasetId}/draft/uploads/{upload.GetProperty("uploadId").GetGuid()}/parts/2",
            new ByteArrayContent(new byte[20_000_000 - upload.GetProperty("partSize").GetInt32()]))).StatusCode);
        var deployment = await (await alice.Client.PostAsJsonAsync("/api/v1/deployments",
            new { module = "development", title = "secret-deployment", password = "a long password" })).Content.ReadFromJsonAsync<JsonElement>();
        var deploymentId = deployment.GetProperty("id").GetGuid();
        var job = await (await alice.Client.PostAsJsonAsync("/api/v1/jobs", new { name = "secret-job", command = new[] { "true" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var jobId = job.GetProperty("id").GetGuid();
        var run = await (await alice.Client.PostAsJsonAsync("/api/v1/runs", new { name = "secret-run" })).Content.ReadFromJsonAsync<JsonElement>();
        var runId = run.GetProperty("id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PostAsJsonAsync($"/api/v1/runs/{runId}/points",
            new { points = new[] { new { name = "secret-metric", step = 0, value = 1.5 } } })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.PostAsJsonAsync($"/api/v1/runs/{runId}/graphs",
            new { title = "secret-graph", series = new[] { "secret-metric" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await alice.Client.PostAsJsonAsync("/api/v1/runs", new { jobId })).StatusCode);
        long notificationId;
        using (var scope = factory.Services.CreateScope())
        {
            notificationId = (await scope.ServiceProvider.GetRequiredService<Platform.Core.Notifications.NotificationService>()
                .AddAsync(alice.Id, "test.note", "secret-notification", "for Alice only", null, alice.AccountId)).Id;
        }

        var before = await SnapshotAsync(alice);

        var samples = new Dictionary<string, string>
        {
            ["accountId"] = alice.AccountId.ToString(),
            ["userId"] = aliceMember.Id.ToString(),
            ["invitationId"] = invitation.GetProperty("id").GetGuid().ToString(),
            ["keyId"] = aliceKeyId.ToString(),
            ["id"] = datasetId.ToString(),
            ["version"] = "1",
            ["path"] = "data/a.csv",
            ["shareId"] = share.GetProperty("id").GetGuid().ToString(),
            ["uploadId"] = upload.GetProperty("uploadId").GetGuid().ToString(),
            ["number"] = "1",
            ["a"] = "1",
            ["b"] = "latest",
            ["alias"] = "production",
            ["name"] = "development",
            ["deploymentId"] = deploymentId.ToString(),
            ["notificationId"] = notificationId.ToString(),
            ["jobId"] = jobId.ToString(),
            ["runId"] = runId.ToString(),
        };
        // Model routes get Alice's model and its share in place of the dataset's.
        var modelSamples = new Dictionary<string, string>(samples)
        {
            ["id"] = modelId.ToString(),
            ["shareId"] = modelShare.GetProperty("id").GetGuid().ToString(),
        };
        var secrets = new[]
        {
            alice.Email, aliceMember.Email, alice.AccountId.ToString(), aliceKeyId.ToString(), "pending@example.test", "secret-data", datasetId.ToString(),
            "secret-model", modelId.ToString(), "secret-deployment", deploymentId.ToString(), "secret-notification", "secret-job", jobId.ToString(),
            "secret-run", runId.ToString(), "secret-metric", "secret-graph",
        };
        var body = JsonSerializer.Serialize(new
        {
            name = "taken over",
            email = bob.Email,
            role = "master",
            scope = "full",
            token = "x",
            accountId = alice.AccountId,
            isPlatformAdmin = true,
            registrationMode = "open",
        });

        var doc = await factory.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var failures = new List<string>();
        var walked = 0;
        foreach (var path in doc.GetProperty("paths").EnumerateObject())
        {
            foreach (var operation in path.Value.EnumerateObject().Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete"))
            {
                walked++;
                var (url, hasParameters) = Fill(path.Name, path.Name.StartsWith("/api/v1/models/", StringComparison.Ordinal) ? modelSamples : samples, failures);
                using var request = new HttpRequestMessage(new HttpMethod(operation.Name.ToUpperInvariant()), url);
                if (operation.Name is "post" or "put" or "patch")
                {
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                }

                using var response = await bob.Client.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                if (hasParameters && response.IsSuccessStatusCode && !IsPublic(operation.Name, path.Name))
                {
                    failures.Add($"{operation.Name.ToUpperInvariant()} {url} succeeded ({(int)response.StatusCode}) for an outsider: {text}");
                }

                foreach (var secret in secrets.Where(s => text.Contains(s, StringComparison.OrdinalIgnoreCase)))
                {
                    failures.Add($"{operation.Name.ToUpperInvariant()} {url} leaked '{secret}' to an outsider: {text}");
                }
            }
        }

        Assert.True(walked >= 20, $"only {walked} operations in the OpenAPI document");
        Assert.Empty(failures);
        Assert.Equal(before, await SnapshotAsync(alice));
        Assert.Equal(HttpStatusCode.OK, (await alice.Client.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task EveryRoute_WithoutCredentials_Is401ProblemDetails()
    {
        var anonymous = factory.CreateClient();
        var failures = new List<string>();
        var operations = await OperationsAsync();
        Assert.All(PublicOperations, p => Assert.Contains(p, operations));
        foreach (var (method, template) in operations.Where(o => !IsPublic(o.Method, o.Template)))
        {
            var (url, _) = Fill(template, SampleIds, failures);
            using var request = new HttpRequestMessage(new HttpMethod(method), url);
            if (method is "POST" or "PUT" or "PATCH")
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }

            using var response = await anonymous.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.Unauthorized || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{(int)response.StatusCode} {response.Content.Headers.ContentType}: {method} {url}");
            }
        }

        Assert.Empty(failures);
    }

    [Fact]
    public async Task EveryRouteWithABody_RefusesAnOversizedOne_With413()
    {
        var user = await factory.NamedUserAsync("sizer");
        var huge = new string('x', (int)Infrastructure.ApiFactory.DefaultBodyLimit + 1);
        var failures = new List<string>();
        // Uploads take file bodies of any size by design (they are bounded by the storage quota instead).
        var uploads = await UploadOperationsAsync();
        Assert.Contains(("PUT", "/api/v1/datasets/{id}/draft/files/{path}"), uploads);
        foreach (var (method, template) in (await OperationsAsync()).Where(o => o.Method is "POST" or "PUT" or "PATCH").Except(uploads))
        {
            var (url, _) = Fill(template, SampleIds, failures);
            using var request = new HttpRequestMessage(new HttpMethod(method), url)
            {
                Content = new StringContent($"{{\"name\":\"{huge}\"}}", Encoding.UTF8, "application/json"),
            };
            using var response = await user.Client.SendAsync(request);
            if (response.StatusCode != HttpStatusCode.RequestEntityTooLarge)
            {
                failures.Add($"{method} {url}: {(int)response.StatusCode}");
            }
        }

        Assert.Empty(failures);
    }

    private static readonly Dictionary<string, string> SampleIds = new()
    {
        ["accountId"] = Guid.NewGuid().ToString(),
        ["userId"] = Guid.NewGuid().ToString(),
        ["invitationId"] = Guid.NewGuid().ToString(),
        ["keyId"] = Guid.NewGuid().ToString(),
        ["id"] = Guid.NewGuid().ToString(),
        ["version"] = "1",
        ["path"] = "data/a.csv",
        ["shareId"] = Guid.NewGuid().ToString(),
        ["uploadId"] = Guid.NewGuid().ToString(),
        ["number"] = "1",
        ["a"] = "1",
        ["b"] = "latest",
        ["alias"] = "production",
        ["name"] = "development",
        ["deploymentId"] = Guid.NewGuid().ToString(),
        ["notificationId"] = "1",
        ["jobId"] = Guid.NewGuid().ToString(),
        ["runId"] = Guid.NewGuid().ToString(),
    };

    /// <summary>
    /// Public by design: the module catalog says what the platform offers and holds nothing of anyone's; the webhook
    /// authenticates by its signature (CatalogApiTests covers both).
    /// </summary>
    private static readonly (string Method, string Template)[] PublicOperations =
    [
        ("GET", "/api/v1/catalog/modules"),
        ("GET", "/api/v1/catalog/modules/{name}"),
        ("POST", "/api/v1/catalog/webhook"),
    ];

    private static bool IsPublic(string method, string template) =>
        PublicOperations.Contains((method.ToUpperInvariant(), template.TrimEnd('/')));

    private async Task<List<(string Method, string Template)>> OperationsAsync()
    {
        var doc = await factory.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var operations = doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject()
                .Where(o => o.Name is "get" or "post" or "put" or "patch" or "delete")
                .Select(o => (o.Name.ToUpperInvariant(), p.Name)))
            .ToList();
        Assert.True(operations.Count >= 20, $"only {operations.Count} operations in the OpenAPI document");
        return operations;
    }

    private async Task<List<(string Method, string Template)>> UploadOperationsAsync()
    {
        var doc = await factory.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        return doc.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject()
                .Where(o => o.Value.ValueKind == JsonValueKind.Object && o.Value.TryGetProperty("requestBody", out var body)
                    && body.GetProperty("content").TryGetProperty("application/octet-stream", out _))
                .Select(o => (o.Name.ToUpperInvariant(), p.Name)))
            .ToList();
    }

    private static (string Url, bool HasParameters) Fill(string template, Dictionary<string, string> samples, List<string> failures)
    {
        var hasParameters = false;
        var url = System.Text.RegularExpressions.Regex.Replace(template, @"\{([^}:]+)(:[^}]*)?\}", m =>
        {
            hasParameters = true;
            if (samples.TryGetValue(m.Groups[1].Value, out var value))
            {
                return value;
            }

            failures.Add($"{template}: no sample for path parameter '{m.Groups[1].Value}'; add one to CrossAccountWalkTests");
            return Guid.Empty.ToString();
        });
        return (url, hasParameters);
    }

    /// <summary>Everything about Alice's account an attack could change, as one comparable string.</summary>
    private async Task<string> SnapshotAsync(TestUser alice) => await factory.WithDbAsync(async db =>
    {
        var account = await db.Accounts.AsNoTracking().Where(a => a.Id == alice.AccountId).Select(a => a.Name).FirstAsync();
        var members = await db.Memberships.AsNoTracking().Where(m => m.AccountId == alice.AccountId)
            .OrderBy(m => m.UserId).Select(m => m.UserId + ":" + m.Role).ToListAsync();
        var invitations = await db.Invitations.AsNoTracking().Where(i => i.AccountId == alice.AccountId)
            .OrderBy(i => i.Id).Select(i => i.Id + ":" + i.RevokedAt + ":" + i.AcceptedAt).ToListAsync();
        var keys = await db.AccessKeys.AsNoTracking().Where(k => k.UserId == alice.Id)
            .OrderBy(k => k.Id).Select(k => k.Id + ":" + k.RevokedAt).ToListAsync();
        var users = await db.Users.AsNoTracking().Where(u => u.Id == alice.Id)
            .Select(u => u.IsPlatformAdmin + ":" + u.CurrentAccountId + ":" + u.MaxDeployments + ":" + u.MaxCpus + ":" + u.MaxGpus).FirstAsync();
        var limits = await db.Memberships.AsNoTracking().Where(m => m.AccountId == alice.AccountId).OrderBy(m => m.UserId)
            .Select(m => m.UserId + ":" + m.MaxDeployments + ":" + m.MaxCpus + ":" + m.MaxGpus + ":" + m.Account!.IdleCullMinutes + ":" + m.Account.IdleWarningMinutes).ToListAsync();
        var notifications = await db.Notifications.AsNoTracking().Where(n => n.UserId == alice.Id).OrderBy(n => n.Id)
            .Select(n => n.Id + ":" + n.ReadAt).ToListAsync();
        var artifacts = await (from f in db.ArtifactFiles
                               join v in db.ArtifactVersions on f.VersionId equals v.Id
                               join a in db.Artifacts on v.ArtifactId equals a.Id
                               where a.AccountId == alice.AccountId
                               orderby a.Name, v.Number, f.Path
                               select a.Name + ":" + v.Number + ":" + f.Path + ":" + f.Sha256).ToListAsync();
        var shares = await db.ArtifactShares.AsNoTracking().OrderBy(x => x.Id).Select(x => x.Id + ":" + x.Access + ":" + x.GranteeUserId).ToListAsync();
        var models = (await db.Artifacts.AsNoTracking().Where(a => a.AccountId == alice.AccountId).OrderBy(a => a.Id)
                .Select(a => new { a.Id, a.IsPublic, a.Description, a.Framework, a.Metrics, a.UpdatedAt }).ToListAsync())
            .Select(a => $"{a.Id}:{a.IsPublic}:{a.Description}:{a.Framework}:{a.Metrics}:{a.UpdatedAt:O}");
        var aliases = await db.ArtifactAliases.AsNoTracking().OrderBy(x => x.ArtifactId).ThenBy(x => x.Alias)
            .Select(x => x.ArtifactId + ":" + x.Alias + ":" + x.VersionId).ToListAsync();
        var uploads = await (from u in db.Uploads
                             join a in db.Artifacts on u.ArtifactId equals a.Id
                             where a.AccountId == alice.AccountId
                             orderby u.Id
                             select u.Id + ":" + u.Path + ":" + u.Size + ":" + u.ExpiresAt).ToListAsync();
        var parts = await db.UploadParts.AsNoTracking().OrderBy(p => p.UploadId).ThenBy(p => p.Number)
            .Select(p => p.UploadId + ":" + p.Number + ":" + p.ETag).ToListAsync();
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.AccountId == alice.AccountId).OrderBy(j => j.Id)
            .Select(j => j.Id + ":" + j.Name + ":" + j.Desired + ":" + j.Generation + ":" + j.Progress).ToListAsync();
        var quotas = await db.JobQuotas.AsNoTracking().Where(q => q.AccountId == alice.AccountId).OrderBy(q => q.Id)
            .Select(q => q.Id + ":" + q.UserId + ":" + q.MaxGpus + ":" + q.GpuHoursPerDay + ":" + q.CpuHoursPerDay + ":" + q.Weight).ToListAsync();
        var runs = await db.Runs.AsNoTracking().Where(r => r.AccountId == alice.AccountId).OrderBy(r => r.Id)
            .Select(r => r.Id + ":" + r.Name + ":" + r.State + ":" + r.PointCount + ":" + r.Dropped + ":" + r.UpdatedAt
                + ":" + db.MetricSeries.Count(m => m.RunId == r.Id) + ":" + db.RunGraphs.Count(g => g.RunId == r.Id)).ToListAsync();
        var points = await db.MetricPoints.AsNoTracking()
            .Where(p => db.MetricSeries.Any(m => m.Id == p.SeriesId && db.Runs.Any(r => r.Id == m.RunId && r.AccountId == alice.AccountId))).CountAsync();
        var preferences = await db.Users.AsNoTracking().Where(u => u.Id == alice.Id).Select(u => u.NotifyByEmail.ToString()).FirstAsync();
        return string.Join("|", [account, .. members, .. invitations, .. keys, users, .. limits, .. notifications, .. artifacts, .. shares, .. models, .. aliases,
            .. uploads, .. parts, .. jobs, .. quotas, .. runs, points.ToString(), preferences]);
    });
}
