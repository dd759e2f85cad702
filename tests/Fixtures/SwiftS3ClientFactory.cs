using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.S3;
using Amazon.S3.Model;

namespace Platform.Tests.Fixtures;

/// <summary>
/// AWSSDK.S3 (v4) settings that work against OpenStack Swift's s3api (Debian's Swift 2.30), found by trying each
/// operation the platform uses against <see cref="SwiftS3Server"/>. Every setting below is there for a reason given
/// next to it; the S3 object store's production client will need the same ones when pointed at Swift.
/// </summary>
public static class SwiftS3ClientFactory
{
    /// <summary>A client for an S3 endpoint served by Swift s3api, trusting exactly the certificate in <paramref name="caCertificatePath"/> when given.</summary>
    public static AmazonS3Client Create(Uri endpoint, string accessKey, string secretKey, string region, string? caCertificatePath)
    {
        var config = new AmazonS3Config
        {
            // Swift is addressed by URL, not by AWS region: ServiceURL plus the region the signatures are scoped to.
            // s3api checks the credential scope against its `location` setting (us-east-1 by default).
            ServiceURL = endpoint.ToString(),
            AuthenticationRegion = region,

            // Path-style URLs (https://host:port/bucket/key): virtual-host style would need a wildcard DNS name
            // (s3api's storage_domain) that 127.0.0.1 cannot give.
            ForcePathStyle = true,

            // SDK v4 defaults to "flexible checksums": uploads carry a CRC32 as a trailer of an aws-chunked body.
            // Swift 2.30 s3api does not take those (every PutObject/UploadPart answered SignatureDoesNotMatch when
            // tried), so compute a checksum only where an operation requires one (DeleteObjects, see ContentMd5Handler).
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            // Downloads: with the default the SDK asks for checksums (x-amz-checksum-mode) that Swift neither stores nor
            // returns; no tested operation failed with it, but validating only on request keeps the two sides symmetric.
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };

        // The SDK's HttpClients come from this factory: it adds the Content-MD5 header s3api wants on DeleteObjects
        // and, given a certificate file, trusts exactly that certificate (the test server's self-signed one) rather
        // than turning verification off.
        config.HttpClientFactory = new SwiftHttpClientFactory(caCertificatePath);

        return new SwiftCompatibleS3Client(new BasicAWSCredentials(accessKey, secretKey), config);
    }

    /// <summary>An HTTP handler that accepts a server certificate only when it chains to the certificate in the given PEM file (and matches the host name).</summary>
    public static SocketsHttpHandler CreateTrustingHandler(string caCertificatePath)
    {
        var trusted = X509Certificate2.CreateFromPem(File.ReadAllText(caCertificatePath));
        return new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, errors) => IsTrusted(certificate, errors, trusted),
            },
        };
    }

    /// <summary>A plain HttpClient (e.g. for presigned URLs) that trusts exactly the certificate in the given PEM file.</summary>
    public static HttpClient CreateHttpClient(string caCertificatePath) => new(CreateTrustingHandler(caCertificatePath));

    private static bool IsTrusted(X509Certificate? certificate, SslPolicyErrors errors, X509Certificate2 trusted)
    {
        // A wrong host name or no certificate at all is never acceptable; a chain error is expected (self-signed)
        // and is decided below against our own trust anchor instead of the system store.
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(trusted);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        try
        {
            return chain.Build(leaf);
        }
        finally
        {
            if (!ReferenceEquals(leaf, certificate))
            {
                leaf.Dispose();
            }
        }
    }

    private sealed class SwiftHttpClientFactory(string? caCertificatePath) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) =>
            new(new ContentMd5Handler { InnerHandler = caCertificatePath is null ? new SocketsHttpHandler() : CreateTrustingHandler(caCertificatePath) });

        // One HttpClient per SDK client (a null key groups per client), reused for its lifetime, disposed with it.
        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public override string? GetConfigUniqueString(IClientConfig clientConfig) => null;
    }

    /// <summary>
    /// DeleteObjects (POST /bucket?delete): S3 requires a body checksum and Swift 2.30 s3api accepts only Content-MD5
    /// ("Missing required header for this request: Content-MD5"), while SDK v4 sends a flexible checksum
    /// (x-amz-checksum-crc32) instead; adding Content-MD5 to the SDK request in a pipeline handler before signing
    /// did not help (the answer stayed "Missing required header"). Added here, on the
    /// wire message, it is outside the signed headers, which SigV4 allows.
    /// </summary>
    private sealed class ContentMd5Handler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post
                && request.Content is { } content
                && content.Headers.ContentMD5 is null
                && request.RequestUri?.Query.TrimStart('?').Split('&').Any(p => p == "delete" || p.StartsWith("delete=", StringComparison.Ordinal)) == true)
            {
                var body = await content.ReadAsByteArrayAsync(cancellationToken);
                var buffered = new ByteArrayContent(body);
                foreach (var header in content.Headers)
                {
                    buffered.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                buffered.Headers.ContentMD5 = MD5.HashData(body);
                request.Content = buffered;
                content.Dispose();
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>
    /// A per-request fix that no client-wide setting gives, applied in the SDK pipeline just before signing.
    /// </summary>
    private sealed class SwiftCompatibleS3Client(AWSCredentials credentials, AmazonS3Config config) : AmazonS3Client(credentials, config)
    {
        protected override void CustomizeRuntimePipeline(RuntimePipeline pipeline)
        {
            base.CustomizeRuntimePipeline(pipeline);
            pipeline.AddHandlerBefore<Signer>(new SwiftCompatibilityHandler());
        }
    }

    private sealed class SwiftCompatibilityHandler : PipelineHandler
    {
        public override void InvokeSync(IExecutionContext executionContext)
        {
            Prepare(executionContext);
            base.InvokeSync(executionContext);
        }

        public override Task<T> InvokeAsync<T>(IExecutionContext executionContext)
        {
            Prepare(executionContext);
            return base.InvokeAsync<T>(executionContext);
        }

        private static void Prepare(IExecutionContext executionContext)
        {
            var request = executionContext.RequestContext.Request;

            // PutObject/UploadPart default to aws-chunked bodies (STREAMING-... payload signatures), which Swift 2.30
            // s3api refuses: "Transfering payloads in multiple chunks using aws-chunked is not supported." The same as
            // PutObjectRequest/UploadPartRequest.UseChunkEncoding = false, on every request so callers cannot forget
            // it; the SDK then signs the SHA-256 of the whole payload instead.
            request.UseChunkEncoding = false;
        }
    }
}
