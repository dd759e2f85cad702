using System.Data.Common;
using System.Globalization;

namespace Platform.Core.Storage;

/// <summary>
/// ConnectionStrings:objectstore: a folder (<c>Folder=/path</c>, or a bare absolute path), or an S3 endpoint:
/// <c>Endpoint=https://host:port;Bucket=platform;AccessKey=…;SecretKey=…;Region=us-east-1</c>, with optional
/// <c>CaCertificate=/path/ca.pem</c> (trust exactly this certificate, e.g. a self-signed server), <c>PathStyle=true</c>,
/// <c>ChunkedUploads=false</c> and <c>TrailingChecksums=false</c> (leave both off for servers that lack aws-chunked
/// bodies or trailing checksums, such as Swift's s3api; AWS and MinIO accept either).
/// </summary>
public sealed record ObjectStoreSettings(string? Folder, S3Settings? S3)
{
    public const string DefaultFolder = ".data/objects";

    public static ObjectStoreSettings Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return new ObjectStoreSettings(Path.GetFullPath(DefaultFolder), null);
        }

        if (!value.Contains('='))
        {
            return new ObjectStoreSettings(Path.GetFullPath(value.Trim()), null);
        }

        var parts = new DbConnectionStringBuilder { ConnectionString = value };
        string? Get(string key) => parts.TryGetValue(key, out var v) ? Convert.ToString(v, CultureInfo.InvariantCulture) : null;
        bool Flag(string key, bool fallback) => Get(key) is { } v ? bool.Parse(v) : fallback;

        if (Get("Folder") is { } folder)
        {
            return new ObjectStoreSettings(Path.GetFullPath(folder), null);
        }

        var endpoint = Get("Endpoint") ?? throw new FormatException("ConnectionStrings:objectstore needs Folder=… or Endpoint=… (S3).");
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new FormatException($"ConnectionStrings:objectstore Endpoint '{endpoint}' is not an http(s) URL.");
        }

        string Required(string key) => Get(key) is { Length: > 0 } v ? v : throw new FormatException($"ConnectionStrings:objectstore needs {key}=… for S3.");
        return new ObjectStoreSettings(null, new S3Settings(
            uri, Required("Bucket"), Required("AccessKey"), Required("SecretKey"), Get("Region") ?? "us-east-1",
            Get("CaCertificate"), Flag("PathStyle", true), Flag("ChunkedUploads", false), Flag("TrailingChecksums", false)));
    }
}

public sealed record S3Settings(
    Uri Endpoint, string Bucket, string AccessKey, string SecretKey, string Region,
    string? CaCertificate, bool PathStyle, bool ChunkedUploads, bool TrailingChecksums)
{
    /// <summary>Never prints the keys.</summary>
    public override string ToString() => $"S3 {Endpoint} bucket {Bucket} ({Region})";
}
