using System.Security.Cryptography;
using System.Text;

namespace Platform.Core.Common;

public static class Secrets
{
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    /// <summary>A random string of base62 characters (about 5.95 bits each), safe in URLs and headers.</summary>
    public static string NewToken(int length) => RandomNumberGenerator.GetString(Alphabet, length);

    public static byte[] Hash(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value));

    public static bool HashEquals(string value, byte[] expectedHash) =>
        CryptographicOperations.FixedTimeEquals(Hash(value), expectedHash);

    /// <summary>Length of the secret part of a workload key (<see cref="NewWorkloadKey"/>).</summary>
    public const int WorkloadSecretLength = 40;

    /// <summary>
    /// A key a workload acts with: <c>{prefix}{id, 32 hex}_{40 base62}</c> (<c>plat_dep_</c>, <c>plat_job_</c>). An access
    /// key is <c>plat_{12 base62}_…</c>, with no underscore in its prefix, so the shapes never collide.
    /// </summary>
    public static string NewWorkloadKey(string prefix, Guid id) => $"{prefix}{id:N}_{NewToken(WorkloadSecretLength)}";

    /// <summary>The id in a well-formed workload key of <paramref name="prefix"/>; false for any other shape.</summary>
    public static bool TryReadWorkloadKey(string presented, string prefix, out Guid id)
    {
        id = Guid.Empty;
        const int idLength = 32;
        return presented.StartsWith(prefix, StringComparison.Ordinal)
            && presented.Length == prefix.Length + idLength + 1 + WorkloadSecretLength
            && presented[prefix.Length + idLength] == '_'
            && Guid.TryParseExact(presented.AsSpan(prefix.Length, idLength), "N", out id);
    }
}
