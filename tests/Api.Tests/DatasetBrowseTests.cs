using System.IO.Compression;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

/// <summary>Archives, previews and diffs of dataset versions through the API (real PostgreSQL, filesystem store).</summary>
public sealed class DatasetBrowseTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    private static async Task<Guid> CreateAsync(TestUser user, string name)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/datasets", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task UploadAsync(TestUser user, Guid id, string path, byte[] bytes) =>
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/{path}", new ByteArrayContent(bytes))).StatusCode);

    private static Task UploadAsync(TestUser user, Guid id, string path, string text) => UploadAsync(user, id, path, Encoding.UTF8.GetBytes(text));

    private static async Task PublishAsync(TestUser user, Guid id) =>
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsync($"/api/v1/datasets/{id}/draft/publish", null)).StatusCode);

    [Fact]
    public async Task Archive_StreamsTheVersionAsAZip_ThatOpensWithTheSameContents_AndAPrefixNarrowsIt()
    {
        var user = await factory.CreateUserAsync();
        var other = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "zipped");
        var files = new Dictionary<string, byte[]>
        {
            ["README.md"] = "# zipped\n"u8.ToArray(),
            ["images/cat.png"] = Png,
            ["images/deep/nested/table.csv"] = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("a,b\n1,2\n", 5000))),
            ["images/empty.txt"] = [],
            ["weights.bin"] = System.Security.Cryptography.RandomNumberGenerator.GetBytes(200_000),
        };
        foreach (var (path, bytes) in files)
        {
            await UploadAsync(user, id, path, bytes);
        }

        await PublishAsync(user, id);
        await UploadAsync(user, id, "draft-only.txt", "not in v1");

        using var response = await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/archive", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("zipped-v1.zip", response.Content.Headers.ContentDisposition?.FileNameStar);
        Assert.Null(response.Content.Headers.ContentLength); // streamed as it is made, not buffered to be measured
        using (var zip = new ZipArchive(new MemoryStream(await response.Content.ReadAsByteArrayAsync()), ZipArchiveMode.Read))
        {
            Assert.Equal(files.Keys.Order(StringComparer.Ordinal), zip.Entries.Select(e => e.FullName));
            foreach (var entry in zip.Entries)
            {
                Assert.Equal(files[entry.FullName], Read(entry));
            }

            Assert.Equal(Png.Length, zip.GetEntry("images/cat.png")!.CompressedLength); // stored, not deflated again
        }

        using var part = await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/draft/archive?prefix=images/deep/");
        Assert.Equal("zipped-draft.zip", part.Content.Headers.ContentDisposition?.FileNameStar);
        using (var zip = new ZipArchive(new MemoryStream(await part.Content.ReadAsByteArrayAsync()), ZipArchiveMode.Read))
        {
            Assert.Equal(["images/deep/nested/table.csv"], zip.Entries.Select(e => e.FullName));
        }

        using var latest = await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/latest/archive");
        Assert.Equal("zipped-v1.zip", latest.Content.Headers.ContentDisposition?.FileNameStar);

        await (await other.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/archive")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/7/archive")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Archive_WhenAnObjectIsMissingMidway_BreaksTheDownload_InsteadOfEndingAZipWithoutIt()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "broken");
        await UploadAsync(user, id, "a.txt", "first");
        await UploadAsync(user, id, "b.txt", "second");
        var key = await factory.WithDbAsync(db => db.ArtifactFiles.Where(f => f.Path == "b.txt" && f.ObjectKey.Contains(user.AccountId.ToString("N")))
            .Select(f => f.ObjectKey).FirstAsync());
        File.Delete(Path.Combine(factory.ObjectsFolder, "objects", key));

        // The headers (200, application/zip) are out before b.txt's turn: the body must then fail, not end normally.
        using var response = await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/draft/archive", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var broken = await Assert.ThrowsAsync<HttpRequestException>(() => response.Content.ReadAsByteArrayAsync());
        Assert.Contains("aborted", broken.GetBaseException().Message);
    }

    [Fact]
    public async Task Preview_Tables_Text_Images_AndNothingForTheRest()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "previews");
        await UploadAsync(user, id, "data/people.csv", "name,quote\n\"Doe, Jane\",\"two\nlines\"\nBob,\"a \"\"b\"\"\"\n");
        await UploadAsync(user, id, "data/t.tsv", "a\tb\n1\t2,3\n");
        await UploadAsync(user, id, "data/rows.jsonl", "{\"id\":1,\"x\":\"a\"}\n{\"id\":2,\"y\":[1,2]}\n");
        await UploadAsync(user, id, "notes.md", "# Notes <b>bold</b>\n");
        await UploadAsync(user, id, "img/cat one.png", Png);
        await UploadAsync(user, id, "blob.bin", [0, 1, 2, 3, 255]);
        var preview = (string path) => user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/preview/{path}");

        var csv = await preview("data/people.csv");
        Assert.Equal("table", csv.GetProperty("kind").GetString());
        Assert.Equal(["name", "quote"], Strings(csv.GetProperty("columns")));
        Assert.Equal(["Doe, Jane", "two\nlines"], Strings(csv.GetProperty("rows")[0]));
        Assert.Equal(["Bob", "a \"b\""], Strings(csv.GetProperty("rows")[1]));
        Assert.False(csv.GetProperty("truncated").GetBoolean());

        Assert.Equal(["1", "2,3"], Strings((await preview("data/t.tsv")).GetProperty("rows")[0]));

        var jsonl = await preview("data/rows.jsonl");
        Assert.Equal(["id", "x", "y"], Strings(jsonl.GetProperty("columns")));
        Assert.Equal(["2", "", "[1,2]"], Strings(jsonl.GetProperty("rows")[1]));

        var text = await preview("notes.md");
        Assert.Equal(("text", "# Notes <b>bold</b>\n"), (text.GetProperty("kind").GetString(), text.GetProperty("text").GetString()));

        var image = await preview("img/cat%20one.png");
        Assert.Equal("image", image.GetProperty("kind").GetString());
        Assert.Equal("image/png", image.GetProperty("mediaType").GetString());
        var url = image.GetProperty("url").GetString()!;
        Assert.Equal($"/api/v1/datasets/{id}/versions/draft/files/img/cat%20one.png?inline=true", url);
        using var inline = await user.Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, inline.StatusCode);
        Assert.Equal("image/png", inline.Content.Headers.ContentType?.MediaType);
        Assert.Equal("inline", inline.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("sandbox; default-src 'none'", inline.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("nosniff", inline.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(Png, await inline.Content.ReadAsByteArrayAsync());

        var binary = await preview("blob.bin");
        Assert.Equal("none", binary.GetProperty("kind").GetString());
        Assert.False(string.IsNullOrEmpty(binary.GetProperty("reason").GetString()));

        await (await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/draft/preview/missing.csv")).AssertProblemAsync(HttpStatusCode.NotFound);
        var stranger = await factory.CreateUserAsync();
        await (await stranger.Client.GetAsync($"/api/v1/datasets/{id}/versions/draft/preview/notes.md")).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.Client.GetAsync(url)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("evil.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>")]
    [InlineData("evil.html", "<html><script>alert(document.cookie)</script></html>")]
    [InlineData("fake.png", "<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>")]
    [InlineData("notes.txt", "<script>alert(1)</script>")]
    public async Task ActiveOrUnverifiedContent_IsNeverServedInline(string path, string content)
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "hostile");
        await UploadAsync(user, id, path, content);

        var preview = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/preview/{path}");
        Assert.NotEqual("image", preview.GetProperty("kind").GetString());
        if (path.EndsWith(".svg") || path.EndsWith(".html"))
        {
            Assert.Equal("none", preview.GetProperty("kind").GetString());
        }

        using var response = await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/draft/files/{path}?inline=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task Diff_ListsAddedRemovedAndChanged_WithCounts_PagedByPath()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "diffed");
        foreach (var name in new[] { "a.txt", "b.txt", "c.txt", "d.txt" })
        {
            await UploadAsync(user, id, name, $"v1 {name}");
        }

        await PublishAsync(user, id);
        await UploadAsync(user, id, "b.txt", "v2 b.txt, longer");
        await UploadAsync(user, id, "e.txt", "new");
        await UploadAsync(user, id, "0.txt", "new too");
        await factory.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync(
            $"""DELETE FROM "ArtifactFiles" f USING "ArtifactVersions" v WHERE f."VersionId" = v."Id" AND v."ArtifactId" = {id} AND v."Number" IS NULL AND f."Path" = 'c.txt'"""));
        await PublishAsync(user, id);

        var all = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/1/diff/latest");
        Assert.Equal(["0.txt", "e.txt"], all.GetProperty("added").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Equal(["c.txt"], all.GetProperty("removed").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        var changed = all.GetProperty("changed").EnumerateArray().Single();
        Assert.Equal(("b.txt", 8L, 16L), (changed.GetProperty("path").GetString(), changed.GetProperty("sizeBefore").GetInt64(), changed.GetProperty("sizeAfter").GetInt64()));
        Assert.NotEqual(changed.GetProperty("sha256Before").GetString(), changed.GetProperty("sha256After").GetString());
        var counts = all.GetProperty("counts");
        Assert.Equal((2, 1, 1, 2), (counts.GetProperty("added").GetInt32(), counts.GetProperty("removed").GetInt32(),
            counts.GetProperty("changed").GetInt32(), counts.GetProperty("unchanged").GetInt32()));
        Assert.Equal(JsonValueKind.Null, all.GetProperty("next").ValueKind);

        // Two at a time, in path order across the three lists; the counts stay those of the whole diff.
        var seen = new List<string>();
        string? after = null;
        do
        {
            var page = await user.Client.GetFromJsonAsync<JsonElement>(
                $"/api/v1/datasets/{id}/versions/1/diff/2?limit=2{(after is null ? "" : $"&after={Uri.EscapeDataString(after)}")}");
            var paths = new[] { "added", "removed", "changed" }.SelectMany(k => page.GetProperty(k).EnumerateArray().Select(f => f.GetProperty("path").GetString()!)).ToList();
            Assert.InRange(paths.Count, 1, 2);
            seen.AddRange(paths.Order(StringComparer.Ordinal));
            Assert.Equal(2, page.GetProperty("counts").GetProperty("added").GetInt32());
            after = page.GetProperty("next").GetString();
        }
        while (after is not null);
        Assert.Equal(["0.txt", "b.txt", "c.txt", "e.txt"], seen);

        var reverse = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/latest/diff/1");
        Assert.Equal(["c.txt"], reverse.GetProperty("added").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        var same = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/2/diff/draft");
        Assert.Equal(5, same.GetProperty("counts").GetProperty("unchanged").GetInt32());
        Assert.Empty(same.GetProperty("changed").EnumerateArray());

        await (await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/diff/9")).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.NotEmpty((await (await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/diff/2?after=%00"))
            .AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("after"));
        await (await user.Client.GetAsync($"/api/v1/datasets/{id}/versions/nope/diff/1")).AssertProblemAsync(HttpStatusCode.NotFound);
        var stranger = await factory.CreateUserAsync();
        await (await stranger.Client.GetAsync($"/api/v1/datasets/{id}/versions/1/diff/2")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Diff_OfTwo100000FileVersions_PagesThroughTheChanges()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "huge");
        var draftId = await factory.WithDbAsync(db => db.ArtifactVersions.Where(v => v.ArtifactId == id && v.Number == null).Select(v => v.Id).SingleAsync());
        // Rows straight into the draft (the bytes are not needed to diff), then published the ordinary way.
        await factory.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO "ArtifactFiles" ("VersionId", "Path", "Size", "Sha256", "ObjectKey", "AddedAt")
            SELECT {draftId}, 'f/' || lpad(n::text, 6, '0'), n, md5(n::text) || md5(n::text), 'accounts/x/objects/' || n, now()
            FROM generate_series(1, 100000) AS n;
            UPDATE "ArtifactVersions" SET "FileCount" = 100000 WHERE "Id" = {draftId};
            """));
        await PublishAsync(user, id);
        await factory.WithDbAsync(db => db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            UPDATE "ArtifactFiles" f SET "Sha256" = repeat('0', 64) FROM "ArtifactVersions" v
              WHERE f."VersionId" = v."Id" AND v."ArtifactId" = {id} AND v."Number" IS NULL AND f."Path" IN ('f/000010', 'f/050000', 'f/099999');
            DELETE FROM "ArtifactFiles" f USING "ArtifactVersions" v
              WHERE f."VersionId" = v."Id" AND v."ArtifactId" = {id} AND v."Number" IS NULL AND f."Path" = 'f/000001';
            INSERT INTO "ArtifactFiles" ("VersionId", "Path", "Size", "Sha256", "ObjectKey", "AddedAt")
              SELECT v."Id", 'g/new', 1, repeat('1', 64), 'accounts/x/objects/new', now() FROM "ArtifactVersions" v WHERE v."ArtifactId" = {id} AND v."Number" IS NULL;
            """));

        var first = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/1/diff/draft?limit=2");
        var counts = first.GetProperty("counts");
        Assert.Equal((1, 1, 3, 99_996), (counts.GetProperty("added").GetInt32(), counts.GetProperty("removed").GetInt32(),
            counts.GetProperty("changed").GetInt32(), counts.GetProperty("unchanged").GetInt32()));
        Assert.Equal("f/000001", first.GetProperty("removed")[0].GetProperty("path").GetString());
        Assert.Equal("f/000010", first.GetProperty("changed")[0].GetProperty("path").GetString());
        var rest = await user.Client.GetFromJsonAsync<JsonElement>(
            $"/api/v1/datasets/{id}/versions/1/diff/draft?limit=1000&after={Uri.EscapeDataString(first.GetProperty("next").GetString()!)}");
        Assert.Equal(["f/050000", "f/099999"], rest.GetProperty("changed").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Equal(["g/new"], rest.GetProperty("added").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next").ValueKind);
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static byte[] Read(ZipArchiveEntry entry)
    {
        using var stream = entry.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
