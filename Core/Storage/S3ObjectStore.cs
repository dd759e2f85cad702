using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Platform.Core.Storage;

/// <summary>
/// S3 through AWSSDK.S3, for MinIO, Ceph, Swift's s3api, Garage and AWS alike: path-style addressing, a configurable
/// endpoint, region, keys and TLS trust, and checksums/chunked encoding only where the server asks for them (several
/// S3-compatible servers reject aws-chunked bodies and trailing checksums). Bodies are sent from pooled buffers of at
/// most one part, so memory stays flat whatever the object's size.
/// </summary>
public sealed class S3ObjectStore : IObjectStore, IDisposable
{
    private const int MaxBufferedPart = 64 * 1024 * 1024;

    private readonly AmazonS3Client _client;
    private readonly S3Settings _settings;

    public S3ObjectStore(S3Settings settings)
    {
        _settings = settings;
        _client = new AmazonS3Client(new BasicAWSCredentials(settings.AccessKey, settings.SecretKey), S3ClientFactory.Config(settings));
    }

    public string Kind => "s3";

    public string Location => $"{_settings.Endpoint} bucket {_settings.Bucket}";

    public async Task EnsureReadyAsync(CancellationToken ct = default)
    {
        try
        {
            await _client.PutBucketAsync(new PutBucketRequest { BucketName = _settings.Bucket }, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.Conflict || ex.ErrorCode is "BucketAlreadyOwnedByYou" or "BucketAlreadyExists")
        {
            // Already there: the usual case after the first start.
        }
    }

    public async Task<ObjectInfo> PutAsync(string key, Stream content, long? length = null, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        var buffer = ArrayPool<byte>.Shared.Rent(ObjectStoreLimits.DefaultPartSize);
        try
        {
            var first = await FillAsync(content, buffer, ObjectStoreLimits.DefaultPartSize, ct);
            if (first < ObjectStoreLimits.DefaultPartSize)
            {
                CheckLength(key, length, first);
                using var body = new MemoryStream(buffer, 0, first, writable: false);
                var put = await _client.PutObjectAsync(new PutObjectRequest
                {
                    BucketName = _settings.Bucket,
                    Key = key,
                    InputStream = body,
                    AutoCloseStream = false,
                    UseChunkEncoding = _settings.ChunkedUploads,
                }, ct);
                return new ObjectInfo(key, first, DateTimeOffset.UtcNow, put.ETag);
            }

            return await PutMultipartAsync(key, content, length, buffer, first, ct);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<ObjectInfo?> HeadAsync(string key, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        try
        {
            var head = await _client.GetObjectMetadataAsync(_settings.Bucket, key, ct);
            return new ObjectInfo(key, head.ContentLength, ToOffset(head.LastModified), head.ETag);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task<ObjectReader?> OpenReadAsync(string key, ByteRange? range = null, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        if (range is { From: < 0 })
        {
            throw new ArgumentOutOfRangeException(nameof(range), "A range cannot start before the object.");
        }

        var request = new GetObjectRequest { BucketName = _settings.Bucket, Key = key };
        if (range is not null)
        {
            request.ByteRange = new Amazon.S3.Model.ByteRange(range.From, range.To ?? long.MaxValue);
        }

        GetObjectResponse response;
        try
        {
            response = await _client.GetObjectAsync(request, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            throw new ArgumentOutOfRangeException(nameof(range), $"Range starts at {range?.From}, past the end of '{key}'.");
        }

        var total = TotalLength(response) ?? response.ContentLength;
        var info = new ObjectInfo(key, total, ToOffset(response.LastModified), response.ETag);
        return new ObjectReader(response.ResponseStream, info, range?.From ?? 0, response.ContentLength, response);
    }

    public async IAsyncEnumerable<ObjectInfo> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct = default)
    {
        ObjectKey.ValidatePrefix(prefix);
        var request = new ListObjectsV2Request { BucketName = _settings.Bucket, Prefix = prefix };
        while (true)
        {
            var page = await _client.ListObjectsV2Async(request, ct);
            foreach (var o in page.S3Objects ?? [])
            {
                yield return new ObjectInfo(o.Key, o.Size ?? 0, ToOffset(o.LastModified), o.ETag);
            }

            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task CopyAsync(string sourceKey, string destinationKey, CancellationToken ct = default)
    {
        ObjectKey.Validate(sourceKey);
        ObjectKey.Validate(destinationKey);
        try
        {
            await _client.CopyObjectAsync(new CopyObjectRequest
            {
                SourceBucket = _settings.Bucket,
                SourceKey = sourceKey,
                DestinationBucket = _settings.Bucket,
                DestinationKey = destinationKey,
            }, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new FileNotFoundException($"No object '{sourceKey}' to copy.", ex);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        await _client.DeleteObjectAsync(_settings.Bucket, key, ct);
    }

    public async Task DeleteManyAsync(IReadOnlyCollection<string> keys, CancellationToken ct = default)
    {
        foreach (var batch in keys.Select(ObjectKey.Validate).Chunk(1000))
        {
            var response = await _client.DeleteObjectsAsync(new DeleteObjectsRequest
            {
                BucketName = _settings.Bucket,
                Objects = batch.Select(k => new KeyVersion { Key = k }).ToList(),
                Quiet = true,
            }, ct);
            if (response.DeleteErrors is { Count: > 0 } errors)
            {
                throw new IOException($"{errors.Count} object(s) were not deleted, e.g. '{errors[0].Key}': {errors[0].Message}");
            }
        }
    }

    public async Task<string> StartMultipartAsync(string key, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        var started = await _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _settings.Bucket, Key = key }, ct);
        return started.UploadId;
    }

    public async Task<UploadedPart> UploadPartAsync(string key, string uploadId, int partNumber, Stream content, long length, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        if (length is < 0 or > MaxBufferedPart)
        {
            throw new ArgumentOutOfRangeException(nameof(length), $"A part may be at most {MaxBufferedPart} bytes.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(1, length));
        try
        {
            var read = await FillAsync(content, buffer, (int)length, ct);
            if (read != length)
            {
                throw new IOException($"Part {partNumber} ended after {read} of {length} bytes; send it again.");
            }

            return await SendPartAsync(key, uploadId, partNumber, buffer, read, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new KeyNotFoundException($"No multipart upload '{uploadId}' for '{key}': it was completed, aborted or never started.", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<IReadOnlyList<UploadedPart>> ListPartsAsync(string key, string uploadId, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        var parts = new List<UploadedPart>();
        var request = new ListPartsRequest { BucketName = _settings.Bucket, Key = key, UploadId = uploadId };
        try
        {
            while (true)
            {
                var page = await _client.ListPartsAsync(request, ct);
                parts.AddRange((page.Parts ?? []).Select(p => new UploadedPart(p.PartNumber ?? 0, p.ETag, p.Size ?? 0)));
                if (page.IsTruncated != true)
                {
                    return parts;
                }

                request.PartNumberMarker = page.NextPartNumberMarker?.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            throw new KeyNotFoundException($"No multipart upload '{uploadId}' for '{key}': it was completed, aborted or never started.", ex);
        }
    }

    public async Task<ObjectInfo> CompleteMultipartAsync(string key, string uploadId, IReadOnlyList<UploadedPart> parts, CancellationToken ct = default)
    {
        var received = (await ListPartsAsync(key, uploadId, ct)).ToDictionary(p => p.PartNumber);
        ObjectStoreLimits.ValidateCompletion(parts, received);
        var done = await _client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = _settings.Bucket,
            Key = key,
            UploadId = uploadId,
            PartETags = parts.Select(p => new PartETag(p.PartNumber, p.ETag)).ToList(),
        }, ct);
        return new ObjectInfo(key, parts.Sum(p => received[p.PartNumber].Length), DateTimeOffset.UtcNow, done.ETag);
    }

    public async Task AbortMultipartAsync(string key, string uploadId, CancellationToken ct = default)
    {
        ObjectKey.Validate(key);
        try
        {
            await _client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = _settings.Bucket, Key = key, UploadId = uploadId }, ct);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            // Already completed or aborted: the goal is reached.
        }
    }

    public Uri? PresignRead(string key, TimeSpan expiry, string? downloadFileName = null)
    {
        ObjectKey.Validate(key);
        var request = new GetPreSignedUrlRequest
        {
            BucketName = _settings.Bucket,
            Key = key,
            Verb = HttpVerb.GET,
            Expires = DateTime.UtcNow + expiry,
            Protocol = _settings.Endpoint.Scheme == Uri.UriSchemeHttps ? Protocol.HTTPS : Protocol.HTTP,
        };
        // Whatever the object is, the browser gets an opaque download, never a page to render.
        request.ResponseHeaderOverrides.ContentType = "application/octet-stream";
        if (downloadFileName is not null)
        {
            request.ResponseHeaderOverrides.ContentDisposition = new System.Net.Mime.ContentDisposition { FileName = downloadFileName }.ToString();
        }

        return new Uri(_client.GetPreSignedURL(request));
    }

    public void Dispose() => _client.Dispose();

    private async Task<ObjectInfo> PutMultipartAsync(string key, Stream content, long? length, byte[] buffer, int first, CancellationToken ct)
    {
        var uploadId = await StartMultipartAsync(key, ct);
        try
        {
            var parts = new List<UploadedPart>();
            var filled = first;
            long total = 0;
            while (filled > 0)
            {
                parts.Add(await SendPartAsync(key, uploadId, parts.Count + 1, buffer, filled, ct));
                total += filled;
                filled = await FillAsync(content, buffer, ObjectStoreLimits.DefaultPartSize, ct);
            }

            CheckLength(key, length, total);
            return await CompleteMultipartAsync(key, uploadId, parts, ct);
        }
        catch
        {
            await AbortMultipartAsync(key, uploadId, CancellationToken.None);
            throw;
        }
    }

    private async Task<UploadedPart> SendPartAsync(string key, string uploadId, int partNumber, byte[] buffer, int count, CancellationToken ct)
    {
        using var body = new MemoryStream(buffer, 0, count, writable: false);
        var response = await _client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = _settings.Bucket,
            Key = key,
            UploadId = uploadId,
            PartNumber = partNumber,
            PartSize = count,
            InputStream = body,
            UseChunkEncoding = _settings.ChunkedUploads,
        }, ct);
        return new UploadedPart(partNumber, response.ETag, count);
    }

    private static ValueTask<int> FillAsync(Stream content, byte[] buffer, int count, CancellationToken ct) =>
        content.ReadAtLeastAsync(buffer.AsMemory(0, count), count, throwOnEndOfStream: false, ct);

    private static void CheckLength(string key, long? expected, long actual)
    {
        if (expected is { } length && length != actual)
        {
            throw new IOException($"The upload of '{key}' ended after {actual} of {length} bytes; nothing was stored.");
        }
    }

    private static long? TotalLength(GetObjectResponse response)
    {
        // "bytes 0-99/1234" on a range answer: the object's whole length is after the slash.
        var range = response.ContentRange;
        return range is not null && range.LastIndexOf('/') is var slash and > 0 && long.TryParse(range[(slash + 1)..], out var total) ? total : null;
    }

    private static DateTimeOffset ToOffset(DateTime? time) =>
        time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t.ToUniversalTime(), DateTimeKind.Utc)) : DateTimeOffset.UtcNow;
}
