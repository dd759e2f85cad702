using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

/// <summary>Resumable uploads through the API: parts in any order, resumed after a drop, verified, within the quota.</summary>
public sealed class UploadsApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private const int PartSize = 16 * 1024 * 1024;

    private static async Task<Guid> CreateAsync(TestUser user, string name)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/datasets", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static Task<HttpResponseMessage> StartAsync(TestUser user, Guid id, string path, long size, string? sha256 = null) =>
        user.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/draft/uploads", new { path, size, sha256 });

    private static async Task<JsonElement> StartedAsync(TestUser user, Guid id, string path, long size, string? sha256 = null)
    {
        var response = await StartAsync(user, id, path, size, sha256);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static string UploadUrl(Guid id, JsonElement upload) => $"/api/v1/datasets/{id}/draft/uploads/{upload.GetProperty("uploadId").GetGuid()}";

    private static Task<HttpResponseMessage> PartAsync(TestUser user, Guid id, JsonElement upload, int number, byte[] file)
    {
        var from = (number - 1) * PartSize;
        var length = Math.Min(PartSize, file.Length - from);
        return user.Client.PutAsync($"{UploadUrl(id, upload)}/parts/{number}", new ByteArrayContent(file, from, length));
    }

    private static Task<HttpResponseMessage> CompleteAsync(TestUser user, Guid id, JsonElement upload) =>
        user.Client.PostAsync($"{UploadUrl(id, upload)}/complete", null);

    private static async Task<int[]> ReceivedAsync(TestUser user, Guid id, JsonElement upload) =>
        (await user.Client.GetFromJsonAsync<JsonElement>(UploadUrl(id, upload))).GetProperty("received").EnumerateArray().Select(e => e.GetInt32()).ToArray();

    private static Task<long> UsedAsync(TestUser user) =>
        user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{user.AccountId}/storage").ContinueWith(t => t.Result.GetProperty("usedBytes").GetInt64());

    private static async Task<string[]> DraftPathsAsync(TestUser user, Guid id) =>
        (await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/datasets/{id}/versions/draft/files"))
        .GetProperty("items").EnumerateArray().Select(f => f.GetProperty("path").GetString()!).ToArray();

    private static Task SetQuotaAsync(ApiFactory factory, TestUser user, long? bytes) =>
        factory.WithDbAsync(db => db.Accounts.Where(a => a.Id == user.AccountId).ExecuteUpdateAsync(s => s.SetProperty(a => a.StorageQuotaBytes, bytes)));

    [Fact]
    public async Task MultipartUpload_WithPartsOutOfOrder_CompletesWithTheRightHashAndContent()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "big");
        var file = RandomNumberGenerator.GetBytes(2 * PartSize + 1000);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(file));
        var upload = await StartedAsync(user, id, "weights/model.bin", file.Length, sha256.ToUpperInvariant());
        Assert.Equal(PartSize, upload.GetProperty("partSize").GetInt32());
        Assert.Equal(3, upload.GetProperty("partCount").GetInt32());
        Assert.Empty(upload.GetProperty("received").EnumerateArray());

        Assert.Equal(HttpStatusCode.OK, (await PartAsync(user, id, upload, 3, file)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PartAsync(user, id, upload, 1, file)).StatusCode);
        Assert.Equal(new[] { 1, 3 }, await ReceivedAsync(user, id, upload));
        // Received bytes count as used while the upload is open.
        Assert.Equal(PartSize + 1000, await UsedAsync(user));
        var early = await CompleteAsync(user, id, upload);
        Assert.Contains("part 2", (await early.AssertProblemAsync(HttpStatusCode.Conflict)).Detail());

        Assert.Equal(HttpStatusCode.OK, (await PartAsync(user, id, upload, 2, file)).StatusCode);
        var completed = await CompleteAsync(user, id, upload);
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        var added = await completed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(sha256, added.GetProperty("sha256").GetString());
        Assert.Equal(file.Length, added.GetProperty("size").GetInt64());

        Assert.Equal(file, await user.Client.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/draft/files/weights/model.bin"));
        Assert.Equal(file.Length, await UsedAsync(user));
        await (await user.Client.GetAsync(UploadUrl(id, upload))).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty(await factory.WithDbAsync(db => db.Uploads.Where(u => u.ArtifactId == id).ToListAsync()));
    }

    [Fact]
    public async Task InterruptedPart_LeavesTheUploadResumable_AndThePartCanBeSentAgain()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "dropped");
        var file = RandomNumberGenerator.GetBytes(PartSize + 5000);
        var upload = await StartedAsync(user, id, "data.bin", file.Length, Convert.ToHexStringLower(SHA256.HashData(file)));
        Assert.Equal(HttpStatusCode.OK, (await PartAsync(user, id, upload, 2, file)).StatusCode);

        // The connection drops half-way through part 1's body.
        using (var drop = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, $"{UploadUrl(id, upload)}/parts/1")
            {
                Content = new DroppingContent(file.AsMemory(0, PartSize), PartSize / 2, drop),
            };
            await Assert.ThrowsAnyAsync<Exception>(() => user.Client.SendAsync(request, drop.Token));
        }

        Assert.Equal(new[] { 2 }, await ReceivedAsync(user, id, upload));
        Assert.Empty(await DraftPathsAsync(user, id));

        // A body shorter than declared, or of the wrong length, is refused too and changes nothing.
        var wrong = await user.Client.PutAsync($"{UploadUrl(id, upload)}/parts/1", new ByteArrayContent(file, 0, 100));
        Assert.Contains($"exactly {PartSize} bytes", (await wrong.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail());
        Assert.Equal(new[] { 2 }, await ReceivedAsync(user, id, upload));

        Assert.Equal(HttpStatusCode.OK, (await PartAsync(user, id, upload, 1, file)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(user, id, upload)).StatusCode);
        Assert.Equal(file, await user.Client.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/draft/files/data.bin"));
    }

    [Fact]
    public async Task WrongDeclaredHash_Is400_AndNothingIsAdded()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "hashed");
        var file = RandomNumberGenerator.GetBytes(PartSize + 10);
        var upload = await StartedAsync(user, id, "x.bin", file.Length, new string('0', 64));
        await PartAsync(user, id, upload, 1, file);
        await PartAsync(user, id, upload, 2, file);

        var refused = await CompleteAsync(user, id, upload);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(file)), problem.FieldErrors("sha256")[0]);
        Assert.Empty(await DraftPathsAsync(user, id));
        Assert.Equal(0, await UsedAsync(user));
        var objects = Path.Combine(factory.ObjectsFolder, "objects", "accounts", user.AccountId.ToString("N"));
        Assert.True(!Directory.Exists(objects) || !Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories).Any());
        await (await user.Client.GetAsync(UploadUrl(id, upload))).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task OverTheQuota_IsRefusedBeforeAnyByte_CountingOpenUploads()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "quota");
        await SetQuotaAsync(factory, user, 20_000_000);

        var refused = await StartAsync(user, id, "huge.bin", 30_000_000);
        var problem = await refused.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("20000000 of 20000000 bytes left", problem.Detail());
        Assert.Equal(30_000_000, problem.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(20_000_000, problem.GetProperty("leftBytes").GetInt64());
        Assert.Equal(20_000_000, problem.GetProperty("quotaBytes").GetInt64());

        // An open upload holds its declared bytes: neither another upload nor a single PUT can take them.
        var first = await StartedAsync(user, id, "first.bin", 15_000_000);
        var second = await StartAsync(user, id, "second.bin", 10_000_000);
        Assert.Contains("held for unfinished uploads", (await second.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge)).Detail());
        var put = await user.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/small.bin", new ByteArrayContent(new byte[6_000_000]));
        await put.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge);

        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync(UploadUrl(id, first))).StatusCode);
        await (await user.Client.GetAsync(UploadUrl(id, first))).AssertProblemAsync(HttpStatusCode.NotFound);
        await StartedAsync(user, id, "second.bin", 10_000_000);
    }

    [Fact]
    public async Task ReadOnlySharee_Gets403_AndOtherAccounts404_WhileWritersSeeTheUpload()
    {
        var owner = await factory.CreateUserAsync("owner");
        var reader = await factory.CreateUserAsync("reader");
        var writer = await factory.CreateUserAsync("writer");
        var outsider = await factory.CreateUserAsync("outsider");
        var id = await CreateAsync(owner, "guarded");
        await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = reader.Email, access = "read" });
        await owner.Client.PostAsJsonAsync($"/api/v1/datasets/{id}/shares", new { email = writer.Email, access = "write" });
        var upload = await StartedAsync(owner, id, "a.bin", PartSize + 1);
        var url = UploadUrl(id, upload);

        await (await StartAsync(reader, id, "r.bin", 10)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.Client.GetAsync(url)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.Client.PutAsync($"{url}/parts/1", new ByteArrayContent([1]))).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.Client.PostAsync($"{url}/complete", null)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await reader.Client.DeleteAsync(url)).AssertProblemAsync(HttpStatusCode.Forbidden);

        await (await StartAsync(outsider, id, "o.bin", 10)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.GetAsync(url)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.PutAsync($"{url}/parts/1", new ByteArrayContent([1]))).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await outsider.Client.DeleteAsync(url)).AssertProblemAsync(HttpStatusCode.NotFound);

        // An upload id only works under its own dataset.
        var elsewhere = await CreateAsync(outsider, "elsewhere");
        await (await outsider.Client.GetAsync($"/api/v1/datasets/{elsewhere}/draft/uploads/{upload.GetProperty("uploadId").GetGuid()}"))
            .AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Equal(HttpStatusCode.OK, (await writer.Client.GetAsync(url)).StatusCode);
        Assert.Single(await factory.WithDbAsync(db => db.Uploads.Where(u => u.ArtifactId == id).ToListAsync()));
    }

    [Fact]
    public async Task ZeroByteFile_HasNoParts_AndCompletesEmpty()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "empty");
        var upload = await StartedAsync(user, id, "empty.txt", 0, Convert.ToHexStringLower(SHA256.HashData([])));
        Assert.Equal(0, upload.GetProperty("partCount").GetInt32());
        var part = await user.Client.PutAsync($"{UploadUrl(id, upload)}/parts/1", new ByteArrayContent([]));
        Assert.Contains("no parts", (await part.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("number")[0]);

        var completed = await (await CompleteAsync(user, id, upload)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, completed.GetProperty("size").GetInt64());
        Assert.Empty(await user.Client.GetByteArrayAsync($"/api/v1/datasets/{id}/versions/draft/files/empty.txt"));
    }

    [Fact]
    public async Task Completing_ReplacesAFileAtTheSamePath_AndFreesTheOldObject()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "replace");
        await user.Client.PutAsync($"/api/v1/datasets/{id}/draft/files/a.bin", new ByteArrayContent(new byte[1234]));
        var file = RandomNumberGenerator.GetBytes(PartSize + 1);
        var upload = await StartedAsync(user, id, "a.bin", file.Length);
        await PartAsync(user, id, upload, 1, file);
        await PartAsync(user, id, upload, 2, file);
        Assert.Equal(HttpStatusCode.OK, (await CompleteAsync(user, id, upload)).StatusCode);

        Assert.Equal(["a.bin"], await DraftPathsAsync(user, id));
        Assert.Equal(file.Length, await UsedAsync(user));
        var objects = Path.Combine(factory.ObjectsFolder, "objects", "accounts", user.AccountId.ToString("N"));
        Assert.Single(Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task DeletingTheDataset_AbortsItsOpenUploads_AndFreesTheirBytes()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "abandoned");
        var file = RandomNumberGenerator.GetBytes(PartSize + 1);
        var upload = await StartedAsync(user, id, "half.bin", file.Length);
        Assert.Equal(HttpStatusCode.OK, (await PartAsync(user, id, upload, 1, file)).StatusCode);
        var uploads = Path.Combine(factory.ObjectsFolder, ".uploads");
        Assert.NotEmpty(Directory.EnumerateFileSystemEntries(uploads));

        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/datasets/{id}")).StatusCode);
        Assert.Equal(0, await UsedAsync(user));
        var rows = await factory.WithDbAsync(db => db.Uploads.Where(u => u.Id == upload.GetProperty("uploadId").GetGuid()).CountAsync());
        Assert.Equal(0, rows);
        Assert.DoesNotContain(Directory.EnumerateDirectories(uploads), d => File.Exists(Path.Combine(d, "key"))
            && File.ReadAllText(Path.Combine(d, "key")).StartsWith($"accounts/{user.AccountId:N}/", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a//b.bin", 10L, null, "path")]
    [InlineData("ok.bin", -1L, null, "size")]
    [InlineData("ok.bin", 700_000_000_000L, null, "size")]
    [InlineData("ok.bin", 10L, "not-a-hash", "sha256")]
    public async Task Start_WithBadInput_SaysWhichField(string path, long size, string? sha256, string field)
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "bad-input");
        var response = await StartAsync(user, id, path, size, sha256);
        Assert.NotEmpty((await response.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors(field));
        Assert.Empty(await factory.WithDbAsync(db => db.Uploads.Where(u => u.ArtifactId == id).ToListAsync()));
    }

    [Fact]
    public async Task PartNumbers_OutsideTheUpload_AreRefused()
    {
        var user = await factory.CreateUserAsync();
        var id = await CreateAsync(user, "numbers");
        var upload = await StartedAsync(user, id, "n.bin", 10);
        var zero = await user.Client.PutAsync($"{UploadUrl(id, upload)}/parts/0", new ByteArrayContent(new byte[10]));
        Assert.NotEmpty((await zero.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("number"));
        var two = await user.Client.PutAsync($"{UploadUrl(id, upload)}/parts/2", new ByteArrayContent(new byte[10]));
        Assert.Contains("from 1 to 1", (await two.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("number")[0]);
        var longer = await user.Client.PutAsync($"{UploadUrl(id, upload)}/parts/1", new ByteArrayContent(new byte[11]));
        Assert.NotEmpty((await longer.AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("length"));
    }

    /// <summary>Sends the first <c>dropAfter</c> bytes of a body declared whole, then drops the connection.</summary>
    private sealed class DroppingContent(ReadOnlyMemory<byte> body, int dropAfter, CancellationTokenSource drop) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
        {
            await stream.WriteAsync(body[..dropAfter]);
            await stream.FlushAsync();
            await drop.CancelAsync();
            throw new IOException("The connection was reset.");
        }

        protected override bool TryComputeLength(out long length)
        {
            length = body.Length;
            return true;
        }
    }
}
