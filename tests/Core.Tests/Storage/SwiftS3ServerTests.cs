using System.Net;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;
using Platform.Tests.Fixtures;
using Xunit.Abstractions;

namespace Platform.Core.Tests.Storage;

/// <summary>
/// The throwaway Swift S3 server is a real one, and <see cref="SwiftS3ClientFactory"/>'s settings work with it:
/// every operation the object store needs, and authentication that actually rejects bad requests.
/// </summary>
public sealed class SwiftS3ServerTests(ITestOutputHelper output) : IAsyncLifetime
{
    private SwiftS3Server _server = null!;
    private AmazonS3Client _client = null!;
    private string _bucket = "";

    public async Task InitializeAsync()
    {
        _server = await SwiftS3Server.GetAsync();
        _client = _server.CreateClient();
        _bucket = await _server.CreateBucketAsync("swift-tests");
    }

    public Task DisposeAsync()
    {
        _client.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public void Exposes_an_https_loopback_endpoint_and_its_certificate()
    {
        Assert.Equal("https", _server.Endpoint.Scheme);
        Assert.Equal("127.0.0.1", _server.Endpoint.Host);
        Assert.True(File.Exists(_server.CaCertificatePath));
        Assert.Equal("us-east-1", _server.Region);
        Assert.False(string.IsNullOrEmpty(_server.AccessKey));
        Assert.False(string.IsNullOrEmpty(_server.SecretKey));
    }

    [Fact]
    public async Task Put_then_get_returns_the_same_bytes()
    {
        var body = RandomNumberGenerator.GetBytes(100_000);
        await _client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket, Key = "put/get.bin", InputStream = new MemoryStream(body), ContentType = "application/octet-stream",
        });

        using var response = await _client.GetObjectAsync(_bucket, "put/get.bin");
        Assert.Equal(body.Length, response.ContentLength);
        Assert.Equal(body, await ReadAllAsync(response.ResponseStream));
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(body))}\"", response.ETag);
    }

    [Fact]
    public async Task Range_get_returns_just_the_range()
    {
        var body = Encoding.ASCII.GetBytes("0123456789abcdefghij");
        await PutAsync("range.txt", body);

        using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = "range.txt", ByteRange = new ByteRange(5, 9) });
        Assert.Equal(HttpStatusCode.PartialContent, response.HttpStatusCode);
        Assert.Equal("56789", Encoding.ASCII.GetString(await ReadAllAsync(response.ResponseStream)));
        Assert.Equal("bytes 5-9/20", response.ContentRange);
    }

    [Fact]
    public async Task Multipart_upload_of_three_parts_completes_into_one_object()
    {
        const int partSize = 5 * 1024 * 1024;
        var parts = new[] { RandomNumberGenerator.GetBytes(partSize), RandomNumberGenerator.GetBytes(partSize), RandomNumberGenerator.GetBytes(1234) };
        var start = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = "multi.bin" });
        var etags = new List<PartETag>();
        for (var i = 0; i < parts.Length; i++)
        {
            var part = await _client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = _bucket, Key = "multi.bin", UploadId = start.UploadId, PartNumber = i + 1, InputStream = new MemoryStream(parts[i]),
            });
            etags.Add(new PartETag(i + 1, part.ETag));
        }

        await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = _bucket, Key = "multi.bin", UploadId = start.UploadId, PartETags = etags,
        });

        using var response = await _client.GetObjectAsync(_bucket, "multi.bin");
        Assert.Equal(parts.Sum(p => (long)p.Length), response.ContentLength);
        Assert.Equal(parts.SelectMany(p => p).ToArray(), await ReadAllAsync(response.ResponseStream));
        Assert.EndsWith("-3\"", response.ETag); // S3's multipart ETag: md5 of the part md5s, dash, part count
    }

    [Fact]
    public async Task List_with_prefix_pages_with_continuation_tokens()
    {
        for (var i = 0; i < 5; i++)
        {
            await PutAsync($"list/item-{i}", [(byte)i]);
        }

        await PutAsync("other/item", [9]);
        var keys = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = "list/", MaxKeys = 2, ContinuationToken = token });
            keys.AddRange(page.S3Objects.Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
            pages++;
        }
        while (token is not null);

        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"list/item-{i}"), keys);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task Copy_makes_an_independent_object()
    {
        await PutAsync("copy/source", "original"u8.ToArray());
        await _client.CopyObjectAsync(new CopyObjectRequest { SourceBucket = _bucket, SourceKey = "copy/source", DestinationBucket = _bucket, DestinationKey = "copy/target" });
        await PutAsync("copy/source", "changed"u8.ToArray());

        using var response = await _client.GetObjectAsync(_bucket, "copy/target");
        Assert.Equal("original", Encoding.UTF8.GetString(await ReadAllAsync(response.ResponseStream)));
    }

    [Fact]
    public async Task Batch_delete_removes_the_listed_keys_only()
    {
        foreach (var key in new[] { "batch/a", "batch/b", "batch/c" })
        {
            await PutAsync(key, [1]);
        }

        var result = await _client.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = _bucket, Objects = [new KeyVersion { Key = "batch/a" }, new KeyVersion { Key = "batch/b" }],
        });
        Assert.Equal(2, result.DeletedObjects.Count);
        Assert.Empty(result.DeleteErrors ?? []);

        var left = await _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = "batch/" });
        Assert.Equal(["batch/c"], left.S3Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task Head_of_a_missing_key_is_404()
    {
        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => _client.GetObjectMetadataAsync(_bucket, "no/such/key"));
        Assert.Equal(HttpStatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Presigned_get_works_and_a_tampered_signature_is_rejected()
    {
        await PutAsync("presigned.txt", "hello presigned"u8.ToArray());
        var url = await _client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _bucket, Key = "presigned.txt", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTPS,
        });
        Assert.StartsWith(_server.Endpoint.ToString(), url);
        using var http = _server.CreateHttpClient();

        using (var ok = await http.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("hello presigned", await ok.Content.ReadAsStringAsync());
        }

        using var tampered = await http.GetAsync(Tamper(url));
        Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
        Assert.Contains("SignatureDoesNotMatch", await tampered.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Presigned_put_works()
    {
        var url = await _client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _bucket, Key = "presigned-put.txt", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTPS,
        });
        using var http = _server.CreateHttpClient();
        using (var put = await http.PutAsync(url, new ByteArrayContent("uploaded"u8.ToArray())))
        {
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        }

        using var response = await _client.GetObjectAsync(_bucket, "presigned-put.txt");
        Assert.Equal("uploaded", Encoding.UTF8.GetString(await ReadAllAsync(response.ResponseStream)));
    }

    [Fact]
    public async Task An_expired_presigned_url_is_rejected()
    {
        await PutAsync("expiring.txt", [1, 2, 3]);
        var url = await _client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = _bucket, Key = "expiring.txt", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddSeconds(1), Protocol = Protocol.HTTPS,
        });
        // The SDK rounds the lifetime up to whole seconds (1 or 2 here): wait a second past it.
        var expires = System.Text.RegularExpressions.Regex.Match(url, "X-Amz-Expires=([0-9]+)");
        Assert.True(expires.Success, url);
        var seconds = int.Parse(expires.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(seconds, 1, 2);
        await Task.Delay(TimeSpan.FromSeconds(seconds + 1));

        using var http = _server.CreateHttpClient();
        using var response = await http.GetAsync(url);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("expired", await response.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_wrong_secret_key_is_rejected()
    {
        using var wrong = _server.CreateClient(secretKey: _server.SecretKey + "x");
        var error = await Assert.ThrowsAsync<AmazonS3Exception>(() => wrong.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket, Key = "intruder.txt", ContentBody = "no",
        }));
        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal("SignatureDoesNotMatch", error.ErrorCode);

        var unknown = await Assert.ThrowsAsync<AmazonS3Exception>(() => _server.CreateClient(accessKey: "test:nobody").ListBucketsAsync());
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
    }

    [Fact]
    public async Task A_client_that_trusts_the_system_store_only_refuses_the_self_signed_certificate()
    {
        using var http = new HttpClient();
        await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(new Uri(_server.Endpoint, "/healthcheck")));
        using var trusting = _server.CreateHttpClient();
        Assert.Equal(HttpStatusCode.OK, (await trusting.GetAsync(new Uri(_server.Endpoint, "/healthcheck"))).StatusCode);
    }

    [Fact]
    public void Starts_within_a_few_seconds()
    {
        // Generous for a loaded 2-core CI machine; docs/storage-testing.md has the figures.
        output.WriteLine($"Swift S3 server started in {_server.StartupTime.TotalSeconds:F1} s");
        Assert.InRange(_server.StartupTime, TimeSpan.Zero, TimeSpan.FromSeconds(30));
    }

    private async Task PutAsync(string key, byte[] body) =>
        await _client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = key, InputStream = new MemoryStream(body) });

    /// <summary>Changes one hex digit of the X-Amz-Signature query value.</summary>
    private static string Tamper(string url)
    {
        var at = url.IndexOf("X-Amz-Signature=", StringComparison.Ordinal) + "X-Amz-Signature=".Length;
        Assert.True(at > "X-Amz-Signature=".Length);
        var replacement = url[at] == '0' ? '1' : '0';
        return url[..at] + replacement + url[(at + 1)..];
    }

    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer);
        return buffer.ToArray();
    }
}
