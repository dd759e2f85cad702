using System.Net;
using Platform.Core.Storage;
using Platform.Tests.Fixtures;

namespace Platform.Core.Tests.Storage;

/// <summary>The contract against a real S3 server (Swift's s3api, started by the fixture), through HTTPS and real signatures.</summary>
public sealed class S3ObjectStoreTests : ObjectStoreContract, IAsyncLifetime, IDisposable
{
    private S3ObjectStore _store = null!;
    private SwiftS3Server _server = null!;

    protected override IObjectStore Store => _store;

    public async Task InitializeAsync()
    {
        _server = await SwiftS3Server.GetAsync();
        var bucket = await _server.CreateBucketAsync("contract");
        _store = new S3ObjectStore(Settings(bucket));
        await _store.EnsureReadyAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _store?.Dispose();

    private S3Settings Settings(string bucket, string? secret = null) => ObjectStoreSettings.Parse(
        $"Endpoint={_server.Endpoint};Bucket={bucket};AccessKey={_server.AccessKey};SecretKey={secret ?? _server.SecretKey};" +
        $"Region={_server.Region};CaCertificate={_server.CaCertificatePath}").S3!;

    [Fact]
    public async Task EnsureReady_CreatesAMissingBucket_AndIsIdempotent()
    {
        var bucket = $"fresh-{Guid.NewGuid():N}"[..30];
        using var store = new S3ObjectStore(Settings(bucket));
        await store.EnsureReadyAsync();
        await store.EnsureReadyAsync();
        await store.PutAsync("probe", new MemoryStream([1]), 1);
        Assert.Equal(1, (await store.HeadAsync("probe"))!.Length);
    }

    [Fact]
    public async Task PresignedRead_Works_AndATamperedOneIsRefused()
    {
        var bytes = System.Security.Cryptography.RandomNumberGenerator.GetBytes(1000);
        await _store.PutAsync("presigned/file.csv", new MemoryStream(bytes), bytes.Length);
        var url = _store.PresignRead("presigned/file.csv", TimeSpan.FromMinutes(1), "file.csv")!;

        using var http = _server.CreateHttpClient();
        var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
        Assert.Contains("file.csv", response.Content.Headers.ContentDisposition?.ToString());

        var tampered = new Uri(url.ToString().Replace("presigned/file.csv", "presigned/other.csv", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync(tampered)).StatusCode);
    }

    [Fact]
    public async Task PresignedRead_IsRefusedOnceExpired()
    {
        await _store.PutAsync("presigned/short.txt", new MemoryStream([1, 2, 3]), 3);
        var url = _store.PresignRead("presigned/short.txt", TimeSpan.FromSeconds(2))!;
        using var http = _server.CreateHttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(url)).StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(3.5));

        using var expired = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.Forbidden, expired.StatusCode);
        Assert.Contains("expired", await expired.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task WrongSecret_IsRefusedByTheServer()
    {
        using var store = new S3ObjectStore(Settings("contract", secret: "wrong-secret"));
        await Assert.ThrowsAsync<Amazon.S3.AmazonS3Exception>(() => store.PutAsync("x", new MemoryStream([1]), 1));
    }
}
