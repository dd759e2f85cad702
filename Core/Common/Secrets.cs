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
}
