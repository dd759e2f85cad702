using System.Text;

namespace Platform.Core.Storage;

/// <summary>
/// The rules every object key obeys, checked by every store: relative, '/'-separated, no empty, '.' or '..' segment,
/// no backslash or control character, at most 1024 UTF-8 bytes. Keys are made by the platform; this is the last line
/// against a path escaping the store's folder, not the place user file names are judged.
/// </summary>
public static class ObjectKey
{
    public const int MaxBytes = 1024;

    public static string Validate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var problem = key.Length == 0 ? "it is empty"
            : Encoding.UTF8.GetByteCount(key) > MaxBytes ? $"it is longer than {MaxBytes} bytes"
            : key.StartsWith('/') ? "it starts with '/'"
            : key.Contains('\\') ? "it contains a backslash"
            : key.Any(char.IsControl) ? "it contains a control character"
            : key.Split('/').Any(s => s is "" or "." or "..") ? "it has an empty, '.' or '..' segment"
            : null;
        return problem is null ? key : throw new ArgumentException($"Invalid object key '{Printable(key)}': {problem}.", nameof(key));
    }

    /// <summary>A prefix is a key or empty, and may end with '/'.</summary>
    public static string ValidatePrefix(string prefix) =>
        prefix.Length == 0 ? prefix : Validate(prefix.EndsWith('/') ? prefix[..^1] : prefix) + (prefix.EndsWith('/') ? "/" : "");

    private static string Printable(string key) =>
        new(key.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
