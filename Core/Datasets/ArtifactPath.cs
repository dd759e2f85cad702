using System.Text;

namespace Platform.Core.Datasets;

/// <summary>
/// A file path inside a dataset or model, as users give it: relative, '/'-separated, no empty, '.' or '..' segment, no
/// backslash or control character, NFC-normalised, at most 1024 bytes and 255 bytes a segment. Paths never become
/// object keys; this keeps them meaningful and safe to extract anywhere.
/// </summary>
public static class ArtifactPath
{
    public const int MaxBytes = 1024;
    public const int MaxSegmentBytes = 255;

    public static bool TryNormalize(string? value, out string path, out string problem)
    {
        path = (value ?? "").Normalize(NormalizationForm.FormC);
        problem = path.Length == 0 ? "The path is empty."
            : Encoding.UTF8.GetByteCount(path) > MaxBytes ? $"The path is longer than {MaxBytes} bytes."
            : path.StartsWith('/') ? "The path must be relative (no leading '/')."
            : path.Contains('\\') ? "The path must use '/' between folders, not '\\'."
            : path.Any(char.IsControl) ? "The path contains a control character."
            : path.Split('/').Any(s => s is "" or "." or "..") ? "The path has an empty, '.' or '..' segment."
            : path.Split('/').Any(s => Encoding.UTF8.GetByteCount(s) > MaxSegmentBytes) ? $"A folder or file name is longer than {MaxSegmentBytes} bytes."
            : "";
        return problem.Length == 0;
    }
}
