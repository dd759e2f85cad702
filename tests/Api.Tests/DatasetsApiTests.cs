using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class DatasetsApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static async Task<Guid> CreateAsync(TestUser user, string name)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/datasets", new { name, description = "d", tags = new[] { "Vision" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static Task<HttpResponseMessage> UploadAsync(TestUser user, Guid id, string path, byte[] bytes) =>
        user.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/{path}", new ByteArrayContent(bytes));

    private Task<long> UsedAsync(TestUser user) =>
        user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{user.AccountId}/storage").ContinueWith(t => t.Result.GetProperty("usedBytes").GetInt64());

    [Fact]
    public async Task ConcurrentUploads_AndAPublishAmongThem_LoseNothing_AndNeverChangeTheVersion()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "concurrent");
        // One file first, so the publish has something to freeze however the race below goes.
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(user, id, "first.txt", [0])).StatusCode);
        var uploads = Enumerable.Range(0, 60).Select(i => UploadAsync(user, id, $"part-{i:D2}.txt", [(byte)i])).ToList();
        await Task.Delay(50);
        var publish = user.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null);
        foreach (var upload in uploads)
        {
            Assert.Equal(HttpStatusCode.OK, (await upload).StatusCode);
        }

        var publishResponse = await publish;
        Assert.Equal(HttpStatusCode.OK, publishResponse.StatusCode);
        var counted = (await publishResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("fileCount").GetInt32();
        Assert.InRange(counted, 1, 61);
        var v1 = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/1/files?limit=1000");
        Assert.Equal(counted, v1.GetProperty("items").GetArrayLength());
        var draft = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/files?limit=1000");
        Assert.Equal(61, draft.GetProperty("items").GetArrayLength());
        var dataset = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}");
        Assert.Equal(61, dataset.GetProperty("draft").GetProperty("fileCount").GetInt32());
        Assert.Equal(61, dataset.GetProperty("draft").GetProperty("totalBytes").GetInt64());

        // A second publish sees the same rows the first froze plus the rest, and version 1 kept exactly its own.
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null)).StatusCode);
        var again = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/1/files?limit=1000");
        Assert.Equal(counted, again.GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task ConcurrentUploads_OfOnePath_LeaveOneFile_AndFreeTheObjectsTheyReplaced()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "same-path");
        var objectsBefore = CountObjects();
        var uploads = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => UploadAsync(user, id, "model.bin", RandomNumberGenerator.GetBytes(1000 + i))));

        Assert.All(uploads, u => Assert.Equal(HttpStatusCode.OK, u.StatusCode));
        var draft = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/files");
        var only = Assert.Single(draft.GetProperty("items").EnumerateArray());
        Assert.Equal(objectsBefore + 1, CountObjects());
        Assert.Equal(only.GetProperty("size").GetInt64(), await UsedAsync(user));
    }

    /// <summary>Objects the filesystem store keeps (under objects/; temporary and multipart files live elsewhere).</summary>
    private int CountObjects()
    {
        var objects = Path.Combine(factory.ObjectsFolder, "objects");
        return Directory.Exists(objects) ? Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories).Count() : 0;
    }

    [Fact]
    public async Task DeleteDraftFile_RemovesItFromTheDraftOnly_AndFreesWhatNoVersionUses()
    {
        var owner = await factory.CreateUserAsync();
        var reader = await factory.CreateUserAsync();
        var id = await CreateAsync(owner, "pruned");
        await UploadAsync(owner, id, "keep.txt", new byte[100]);
        await UploadAsync(owner, id, "old.txt", new byte[200]);
        Assert.Equal(HttpStatusCode.OK, (await owner.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null)).StatusCode);
        await UploadAsync(owner, id, "scratch.txt", new byte[300]);
        Assert.Equal(600, await UsedAsync(owner));
        await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = reader.Email, access = "read" });

        await (await reader.Client.DeleteAsync($"/api/v1/datasets/{id}/draft/files/old.txt")).AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"/api/v1/datasets/{id}/draft/files/old.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"/api/v1/datasets/{id}/draft/files/scratch.txt")).StatusCode);
        await (await owner.Client.DeleteAsync($"/api/v1/datasets/{id}/draft/files/scratch.txt")).AssertProblemAsync(HttpStatusCode.NotFound);

        var draft = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/files");
        Assert.Equal(["keep.txt"], draft.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        var v1 = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/1/files");
        Assert.Equal(2, v1.GetProperty("items").GetArrayLength());
        // old.txt still belongs to version 1; scratch.txt belonged to nothing else and is gone.
        Assert.Equal(300, await UsedAsync(owner));
        Assert.Equal(200, (await owner.Client.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/1/files/old.txt")).Length);
    }

    [Fact]
    public async Task Create_ValidatesTheName_AndRefusesDuplicates()
    {
        var user = await factory.CreateUserAsync();
        var bad = await user.Client.PostAsJsonAsync("/api/v1/datasets", new { name = "Has Spaces/../x" });
        Assert.NotEmpty((await bad.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("name"));

        await CreateAsync(user, "images");
        var again = await user.Client.PostAsJsonAsync("/api/v1/datasets", new { name = "images" });
        Assert.Contains("already has", (await again.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("name")[0]);
    }

    [Fact]
    public async Task Upload_ListAndDownload_WithRanges_AndSafeHeaders()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "tables");
        var csv = RandomNumberGenerator.GetBytes(10_000);
        var uploaded = await UploadAsync(user, id, "data/train.csv", csv);
        Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(csv)), (await uploaded.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("sha256").GetString());
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(user, id, "data/empty.txt", [])).StatusCode);
        var markdown = new ByteArrayContent("# hi"u8.ToArray());
        markdown.Headers.ContentType = new MediaTypeHeaderValue("text/markdown");
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/README.md", markdown)).StatusCode);

        var page1 = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/files?limit=2");
        Assert.Equal(["README.md", "data/empty.txt"], page1.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        var next = page1.GetProperty("next").GetString();
        var page2 = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/files?limit=2&after={Uri.EscapeDataString(next!)}");
        Assert.Equal(["data/train.csv"], page2.GetProperty("items").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("next").ValueKind);

        var whole = await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/draft/files/data/train.csv");
        Assert.Equal(csv, await whole.Content.ReadAsByteArrayAsync());
        Assert.Equal("nosniff", whole.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("attachment", whole.Content.Headers.ContentDisposition?.DispositionType);

        using var ranged = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/datasets/{id}/versions/draft/files/data/train.csv");
        ranged.Headers.Range = new RangeHeaderValue(100, 199);
        var part = await user.Client.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(csv[100..200], await part.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes 100-199/10000", part.Content.Headers.ContentRange?.ToString());

        using var outside = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/datasets/{id}/versions/draft/files/data/train.csv");
        outside.Headers.Range = new RangeHeaderValue(20_000, null);
        await (await user.Client.SendAsync(outside)).AssertProblemAsync(HttpStatusCode.RequestedRangeNotSatisfiable);
    }

    [Theory]
    [InlineData("bad%01name.txt")]
    [InlineData("folder%5Cfile.txt")]
    [InlineData("a//b.txt")]
    public async Task Upload_WithABadPath_IsRefused_AndStoresNothing(string path)
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "paths");
        var response = await UploadAsync(user, id, path, [1, 2, 3]);
        Assert.NotEmpty((await response.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("path"));
        Assert.Equal(0, await UsedAsync(user));
    }

    [Fact]
    public async Task Publish_FreezesAVersion_AndTheDraftMovesOn()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "frozen");
        await (await user.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null)).AssertProblemAsync(HttpStatusCode.Conflict);

        await UploadAsync(user, id, "a.txt", "one"u8.ToArray());
        var published = await (await user.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("1", published.GetProperty("version").GetString());
        Assert.Equal(64, published.GetProperty("manifestSha256").GetString()!.Length);

        await UploadAsync(user, id, "a.txt", "two"u8.ToArray());
        var v1 = await user.Client.GetStringAsync($"/api/v1/datasets/{id}/versions/1/files/a.txt");
        var latest = await user.Client.GetStringAsync($"/api/v1/datasets/{id}/versions/latest/files/a.txt");
        var draft = await user.Client.GetStringAsync($"/api/v1/datasets/{id}/versions/draft/files/a.txt");
        Assert.Equal(("one", "one", "two"), (v1, latest, draft));

        var dataset = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}");
        Assert.Equal(1, dataset.GetProperty("latestVersion").GetInt32());
        Assert.Equal(["vision"], dataset.GetProperty("tags").EnumerateArray().Select(t => t.GetString()));
    }

    [Fact]
    public async Task Deleting_VersionsAndDatasets_FreesTheStorage_AndTheObjects()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "freed");
        await UploadAsync(user, id, "shared.bin", new byte[1000]);
        await user.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null);
        await UploadAsync(user, id, "only-v2.bin", new byte[500]);
        await user.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null);
        Assert.Equal(1500, await UsedAsync(user));

        // Version 1's only file is still in version 2 and the draft: deleting v1 frees nothing.
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/datasets/{id}/versions/1")).StatusCode);
        Assert.Equal(1500, await UsedAsync(user));
        await (await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/files")).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/datasets/{id}")).StatusCode);
        Assert.Equal(0, await UsedAsync(user));
        var objects = Path.Combine(factory.ObjectsFolder, "objects", "accounts", user.AccountId.ToString("N"));
        Assert.True(!Directory.Exists(objects) || !Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories).Any());
        await (await user.Client.GetAsync($"/api/v1/datasets/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Upload_OverTheQuota_IsRefusedBeforeStoring_WithTheBytesLeft()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "quota");
        await factory.WithDbAsync(db => db.Accounts.Where(a => a.Id == user.AccountId)
            .ExecuteUpdateAsync(s => s.SetProperty(a => a.StorageQuotaBytes, 1000L)));
        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(user, id, "fits.bin", new byte[600])).StatusCode);

        var refused = await UploadAsync(user, id, "too-big.bin", new byte[600]);
        Assert.Contains("400 of 1000 bytes left", (await refused.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Detail());
        var usage = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{user.AccountId}/storage");
        Assert.Equal(600, usage.GetProperty("usedBytes").GetInt64());
        Assert.Equal(400, usage.GetProperty("leftBytes").GetInt64());
    }

    [Fact]
    public async Task Viewer_ReadsButCannotUpload_AndOutsidersSeeNothing()
    {
        var owner = await factory.CreateUserAsync("owner");
        var viewer = await factory.CreateUserAsync("viewer");
        var outsider = await factory.CreateUserAsync("outsider");
        await factory.JoinAsync(owner, owner.AccountId, viewer, "viewer");
        var id = await CreateAsync(owner, "team-data");
        await UploadAsync(owner, id, "x.txt", "x"u8.ToArray());

        Assert.Equal("x", await viewer.Client.GetStringAsync($"/api/v1/datasets/{id}/versions/draft/files/x.txt"));
        await (await UploadAsync(viewer, id, "y.txt", "y"u8.ToArray())).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await outsider.Client.GetAsync($"/api/v1/datasets/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await UploadAsync(outsider, id, "z.txt", "z"u8.ToArray())).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain("team-data", await outsider.Client.GetStringAsync("/api/v1/datasets"));
    }

    [Fact]
    public async Task ReadShare_WithAUserOfAnotherAccount_ReadsButNotWrites_AndRevocationIsImmediate()
    {
        var owner = await factory.CreateUserAsync("sharer");
        var reader = await factory.CreateUserAsync("reader");
        var id = await CreateAsync(owner, "shared-set");
        await UploadAsync(owner, id, "data.csv", "a,b\n"u8.ToArray());
        await owner.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null);
        await (await reader.Client.GetAsync($"/api/v1/datasets/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);

        var shared = await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = reader.Email.ToUpperInvariant(), access = "read" });
        Assert.Equal(HttpStatusCode.Created, shared.StatusCode);
        var shareId = (await shared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        Assert.Contains("shared-set", await reader.Client.GetStringAsync("/api/v1/datasets"));
        Assert.Equal("a,b\n", await reader.Client.GetStringAsync($"/api/v1/datasets/{id}/versions/1/files/data.csv"));
        // The filesystem store cannot presign, so redirect=true streams the file like a plain request.
        Assert.Equal("a,b\n", await reader.Client.GetStringAsync($"/api/v1/datasets/{id}/versions/1/files/data.csv?redirect=true"));
        var write = await UploadAsync(reader, id, "mine.txt", [1]);
        Assert.Contains("read access", (await write.AssertProblemAsync(HttpStatusCode.Forbidden)).Detail());
        await (await reader.Client.DeleteAsync($"/api/v1/datasets/{id}")).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.Client.GetAsync($"/api/v1/datasets/{id}/shares")).AssertProblemAsync(HttpStatusCode.Forbidden);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.Client.DeleteAsync($"/api/v1/datasets/{id}/shares/{shareId}")).StatusCode);
        await (await reader.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/files/data.csv")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain("shared-set", await reader.Client.GetStringAsync("/api/v1/datasets"));
    }

    [Fact]
    public async Task WriteShare_WithAnAccount_LetsItsMembersUpload_ButNotManage()
    {
        var owner = await factory.CreateUserAsync("owner2");
        var partner = await factory.CreateUserAsync("partner");
        var id = await CreateAsync(owner, "joint");
        var shared = await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { accountId = partner.AccountId, access = "write" });
        Assert.Equal("account", (await shared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("granteeType").GetString());

        Assert.Equal(HttpStatusCode.OK, (await UploadAsync(partner, id, "from-partner.txt", [1, 2])).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await partner.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null)).StatusCode);
        var again = await partner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = partner.Email, access = "write" });
        await again.AssertProblemAsync(HttpStatusCode.Forbidden);

        var shares = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/shares");
        Assert.Single(shares.EnumerateArray());
    }

    [Fact]
    public async Task Share_WithBadInput_SaysWhichField()
    {
        var owner = await factory.CreateUserAsync("owner3");
        var id = await CreateAsync(owner, "picky");
        var nobody = await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = "nobody@example.test" });
        Assert.NotEmpty((await nobody.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("email"));
        var both = await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = owner.Email, accountId = owner.AccountId });
        Assert.NotEmpty((await both.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("email"));
        var self = await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { accountId = owner.AccountId });
        Assert.NotEmpty((await self.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("accountId"));
        var access = await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { accountId = Guid.NewGuid(), access = "admin" });
        Assert.NotEmpty((await access.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("access"));
    }

    [Fact]
    public async Task PublicCatalog_LetsEverySignedInUserRead_NotWrite_AndVisitorsOnlyWhenAllowed()
    {
        // Which user of this class registered first (and so is admin) depends on test order: promote one explicitly.
        var admin = await factory.CreateUserAsync("catalog-admin");
        await factory.WithDbAsync(db => db.Users.Where(u => u.Id == admin.Id).ExecuteUpdateAsync(x => x.SetProperty(u => u.IsPlatformAdmin, true)));
        var owner = await factory.CreateUserAsync("publisher");
        var stranger = await factory.CreateUserAsync("stranger");
        var id = await CreateAsync(owner, "open-data");
        await UploadAsync(owner, id, "readme.txt", "hello"u8.ToArray());
        await (await stranger.Client.PutAsync($"/api/v1/datasets/{id}/public", null)).AssertProblemAsync(HttpStatusCode.NotFound);

        var published = await owner.Client.PutAsync($"/api/v1/datasets/{id}/public", null);
        Assert.True((await published.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("isPublic").GetBoolean());
        Assert.Contains("open-data", await stranger.Client.GetStringAsync("/api/v1/catalog/datasets"));
        Assert.Equal("hello", await stranger.Client.GetStringAsync($"/api/v1/datasets/{id}/versions/draft/files/readme.txt"));
        await (await UploadAsync(stranger, id, "x.txt", [1])).AssertProblemAsync(HttpStatusCode.Forbidden);

        var visitor = factory.CreateClient();
        await (await visitor.GetAsync("/api/v1/catalog/datasets")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await admin.Client.PatchAsJsonAsync("/api/v1/admin/settings", new { anonymousCatalog = true });
        Assert.Contains("open-data", await visitor.GetStringAsync("/api/v1/catalog/datasets"));
        await (await visitor.GetAsync($"/api/v1/datasets/{id}")).AssertProblemAsync(HttpStatusCode.Unauthorized);
        await admin.Client.PatchAsJsonAsync("/api/v1/admin/settings", new { anonymousCatalog = false });

        Assert.Equal(HttpStatusCode.OK, (await owner.Client.DeleteAsync($"/api/v1/datasets/{id}/public")).StatusCode);
        await (await stranger.Client.GetAsync($"/api/v1/datasets/{id}")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.DoesNotContain("open-data", await stranger.Client.GetStringAsync("/api/v1/catalog/datasets"));
    }
}
