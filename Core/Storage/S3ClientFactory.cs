using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amazon.Runtime;
using Amazon.S3;

namespace Platform.Core.Storage;

/// <summary>The client settings that make AWSSDK.S3 v4 talk to any S3-compatible server, each for a reason.</summary>
public static class S3ClientFactory
{
    public static AmazonS3Config Config(S3Settings settings) => new()
    {
        ServiceURL = settings.Endpoint.ToString(),
        AuthenticationRegion = settings.Region,
        // Most self-hosted servers route by path, not by bucket sub-domain.
        ForcePathStyle = settings.PathStyle,
        // SDK v4 adds CRC checksums to every request and checks them on responses by default; servers without that
        // support reject the requests or the trailers, so only send them where S3 requires them.
        RequestChecksumCalculation = settings.TrailingChecksums ? RequestChecksumCalculation.WHEN_SUPPORTED : RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = settings.TrailingChecksums ? ResponseChecksumValidation.WHEN_SUPPORTED : ResponseChecksumValidation.WHEN_REQUIRED,
        HttpClientFactory = new PlatformHttpClientFactory(settings.CaCertificate),
        Timeout = TimeSpan.FromMinutes(5),
        MaxErrorRetry = 3,
    };

    /// <summary>One HttpClient per S3 client, trusting a given certificate when configured, and adding Content-MD5 where needed.</summary>
    private sealed class PlatformHttpClientFactory(string? caCertificate) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig)
        {
            var handler = new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
            if (caCertificate is not null)
            {
                var trusted = X509CertificateLoader.LoadCertificateFromFile(caCertificate);
                handler.SslOptions = new SslClientAuthenticationOptions
                {
                    RemoteCertificateValidationCallback = (_, certificate, _, errors) => TrustedBy(trusted, certificate, errors),
                };
            }

            return new HttpClient(new ContentMd5Handler { InnerHandler = handler }) { Timeout = Timeout.InfiniteTimeSpan };
        }

        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => true;

        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => false;

        public override string GetConfigUniqueString(IClientConfig clientConfig) => "platform:" + caCertificate;

        /// <summary>Valid for the system, or chaining to exactly the configured certificate (self-signed servers).</summary>
        private static bool TrustedBy(X509Certificate2 trusted, X509Certificate? presented, SslPolicyErrors errors)
        {
            if (errors == SslPolicyErrors.None)
            {
                return true;
            }

            if (presented is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
            {
                return false;
            }

            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(trusted);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            using var certificate = new X509Certificate2(presented);
            return chain.Build(certificate);
        }
    }

    /// <summary>
    /// S3 requires Content-MD5 on multi-object delete; SDK v4 sends a CRC checksum instead when checksums are left to
    /// "when required", which some servers (Swift's s3api) refuse. Adding the MD5 satisfies both.
    /// </summary>
    private sealed class ContentMd5Handler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Post && request.RequestUri?.Query.Contains("delete", StringComparison.Ordinal) == true
                && request.Content is { } content && content.Headers.ContentMD5 is null)
            {
                var body = await content.ReadAsByteArrayAsync(cancellationToken);
                var replacement = new ByteArrayContent(body);
                foreach (var header in content.Headers)
                {
                    replacement.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                replacement.Headers.ContentMD5 = MD5.HashData(body);
                request.Content = replacement;
            }

            return await base.SendAsync(request, cancellationToken);
        }
    }
}
