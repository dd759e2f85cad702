using System.Text;
using System.Text.Json;

namespace Platform.Core.Datasets;

/// <summary>
/// Builds a <see cref="FilePreview"/> from the first bytes of a file, never more: a table for CSV, TSV and JSON Lines,
/// text for text-like files, an image for PNG, JPEG, GIF and WebP whose magic bytes match, nothing for the rest.
/// HTML and SVG are never previewed (a browser runs their scripts), whatever their bytes hold.
/// </summary>
public static class FilePreviews
{
    /// <summary>Rows of a table shown, after the header.</summary>
    public const int MaxRows = 50;

    /// <summary>Characters of a table cell shown; longer cells end in an ellipsis.</summary>
    public const int MaxCellChars = 200;

    /// <summary>Bytes of a text file shown; also how much is checked when telling text from binary.</summary>
    public const int TextBytes = 64 * 1024;

    /// <summary>Bytes read for a table: fifty rows of a wide CSV need more than the text limit.</summary>
    public const int TableBytes = 256 * 1024;

    /// <summary>Bytes that tell the raster image types apart.</summary>
    public const int MagicBytes = 16;

    private static readonly HashSet<string> TextExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".txt", ".md", ".markdown", ".rst", ".json", ".py", ".ipynb", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".log",
        ".sh", ".r", ".sql", ".js", ".ts", ".cs", ".java", ".c", ".h", ".cpp", ".go", ".rs", ".xml", ".tex",
    };

    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { ".png", ".jpg", ".jpeg", ".gif", ".webp" };

    /// <summary>Formats a browser would render as an active document: never previewed nor served inline.</summary>
    private static readonly HashSet<string> ActiveExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".svg", ".svgz", ".html", ".htm", ".xhtml", ".xht", ".shtml", ".mht", ".mhtml",
    };

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>How many leading bytes <see cref="Build"/> needs for this path.</summary>
    public static int BytesToRead(string path) => Path.GetExtension(path).ToLowerInvariant() switch
    {
        ".csv" or ".tsv" or ".jsonl" or ".ndjson" => TableBytes,
        var ext when ImageExtensions.Contains(ext) => MagicBytes,
        var ext when ActiveExtensions.Contains(ext) => 0,
        _ => TextBytes,
    };

    /// <summary>
    /// The preview of a file of <paramref name="size"/> bytes given its first bytes (<paramref name="head"/>, at most
    /// <see cref="BytesToRead"/>; all of them when the file is that short).
    /// </summary>
    public static FilePreview Build(string path, long size, ReadOnlySpan<byte> head)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        var complete = head.Length >= size;
        if (ActiveExtensions.Contains(ext))
        {
            return None(path, size, "HTML and SVG files are not previewed, since a browser would run what they contain; download the file instead.");
        }

        if (ImageExtensions.Contains(ext))
        {
            return ImageMediaType(path, head) is { } mediaType
                ? new FilePreview("image", path, size, MediaType: mediaType)
                : None(path, size, $"The file is named {ext} but its bytes are not a PNG, JPEG, GIF or WebP image.");
        }

        switch (ext)
        {
            case ".csv" or ".tsv":
                return TryDecode(head, complete, strict: false) is { } delimited
                    ? Delimited(path, size, delimited, ext == ".tsv" ? '\t' : ',', complete)
                    : None(path, size, "The file is not UTF-8 text.");
            case ".jsonl" or ".ndjson":
                return TryDecode(head, complete, strict: false) is { } lines
                    ? JsonLines(path, size, lines, complete) ?? Text(path, size, lines, head.Length, complete)
                    : None(path, size, "The file is not UTF-8 text.");
        }

        var text = TextExtensions.Contains(ext) ? TryDecode(head, complete, strict: false) : LooksLikeText(head, complete);
        return text is null ? None(path, size, "Binary file: there is no preview; download it to look inside.") : Text(path, size, text, head.Length, complete);
    }

    /// <summary>
    /// image/png, image/jpeg, image/gif or image/webp when the path has one of those extensions and the bytes begin with
    /// that format's signature; null otherwise. The one rule for previews and for serving a file inline.
    /// </summary>
    public static string? ImageMediaType(string path, ReadOnlySpan<byte> head)
    {
        if (!ImageExtensions.Contains(Path.GetExtension(path)))
        {
            return null;
        }

        return head.StartsWith((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) ? "image/png"
            : head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]) ? "image/jpeg"
            : head.StartsWith("GIF87a"u8) || head.StartsWith("GIF89a"u8) ? "image/gif"
            : head.Length >= 12 && head.StartsWith("RIFF"u8) && head[8..12].SequenceEqual("WEBP"u8) ? "image/webp"
            : null;
    }

    private static FilePreview None(string path, long size, string reason) => new("none", path, size, Reason: reason);

    private static FilePreview Text(string path, long size, string text, int bytesRead, bool complete)
    {
        var truncated = !complete || bytesRead > TextBytes;
        if (text.Length > TextBytes)
        {
            // A table-sized read fell back to text: show the text limit's worth of characters.
            text = text[..TextBytes];
            truncated = true;
        }

        return new FilePreview("text", path, size, Text: text, Truncated: truncated);
    }

    /// <summary>Valid UTF-8 without NUL characters: text; anything else: null (binary).</summary>
    private static string? LooksLikeText(ReadOnlySpan<byte> head, bool complete) =>
        head.IndexOf((byte)0) >= 0 ? null : TryDecode(head, complete, strict: true);

    /// <summary>
    /// UTF-8 to text without a leading byte-order mark. A read that stopped inside a character leaves that character
    /// out rather than failing; strict decoding returns null on invalid bytes, lenient decoding replaces them.
    /// </summary>
    private static string? TryDecode(ReadOnlySpan<byte> head, bool complete, bool strict)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            head = head[3..];
        }

        var decoder = (strict ? StrictUtf8 : Encoding.UTF8).GetDecoder();
        var chars = new char[head.Length];
        try
        {
            var count = decoder.GetChars(head, chars, flush: complete);
            return new string(chars, 0, count);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static FilePreview Delimited(string path, long size, string text, char delimiter, bool complete)
    {
        var records = DelimitedReader.Read(text, delimiter, complete, MaxRows + 2);
        if (records.Count == 0)
        {
            return new FilePreview("table", path, size, Columns: [], Rows: [], Truncated: !complete);
        }

        var rows = records.Skip(1).Take(MaxRows).Select(r => (IReadOnlyList<string>)r.Select(Cell).ToList()).ToList();
        return new FilePreview("table", path, size, Columns: records[0].Select(Cell).ToList(), Rows: rows,
            Truncated: !complete || records.Count > MaxRows + 1);
    }

    /// <summary>One object a line: the columns are the keys in the order first seen; null when a line is not JSON.</summary>
    private static FilePreview? JsonLines(string path, long size, string text, bool complete)
    {
        var lines = text.Split('\n');
        var whole = complete ? lines.Length : lines.Length - 1; // an unread rest ends the last line early
        var columns = new List<string>();
        var objects = new List<Dictionary<string, string>>();
        var more = !complete;
        for (var i = 0; i < whole; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (objects.Count == MaxRows)
            {
                more = true;
                break;
            }

            var cells = new Dictionary<string, string>(StringComparer.Ordinal);
            try
            {
                using var doc = JsonDocument.Parse(line);
                if (doc.RootElement.ValueKind == JsonValueKind.Object)
                {
                    foreach (var property in doc.RootElement.EnumerateObject())
                    {
                        cells[property.Name] = Cell(property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText());
                    }
                }
                else
                {
                    cells["value"] = Cell(doc.RootElement.GetRawText());
                }
            }
            catch (JsonException)
            {
                return null;
            }

            foreach (var key in cells.Keys.Where(k => !columns.Contains(k)))
            {
                columns.Add(key);
            }

            objects.Add(cells);
        }

        var rows = objects.Select(o => (IReadOnlyList<string>)columns.Select(c => o.GetValueOrDefault(c, "")).ToList()).ToList();
        return new FilePreview("table", path, size, Columns: columns.Select(Cell).ToList(), Rows: rows, Truncated: more);
    }

    private static string Cell(string value) => value.Length <= MaxCellChars ? value : string.Concat(value.AsSpan(0, MaxCellChars), "…");
}

/// <summary>RFC 4180 records: quoted fields may hold the delimiter, newlines and doubled quotes; CRLF or LF ends a record.</summary>
public static class DelimitedReader
{
    /// <summary>
    /// Up to <paramref name="maxRecords"/> records of <paramref name="text"/>, blank lines skipped. When the text is
    /// only the start of a file (<paramref name="complete"/> false), a last record that did not end is left out.
    /// </summary>
    public static List<List<string>> Read(string text, char delimiter, bool complete, int maxRecords)
    {
        var records = new List<List<string>>();
        var record = new List<string>();
        var field = new StringBuilder();
        var inQuotes = false;
        var quoted = false; // the current field began with a quote: it is a field even when empty

        void EndRecord()
        {
            record.Add(field.ToString());
            if (record.Count > 1 || record[0].Length > 0 || quoted)
            {
                records.Add(record);
            }

            record = [];
            field.Clear();
            quoted = false;
        }

        for (var i = 0; i < text.Length && records.Count < maxRecords; i++)
        {
            var c = text[i];
            if (inQuotes)
            {
                if (c != '"')
                {
                    field.Append(c);
                }
                else if (i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else
                {
                    inQuotes = false;
                }
            }
            else if (c == '"' && field.Length == 0 && !quoted)
            {
                inQuotes = quoted = true;
            }
            else if (c == delimiter)
            {
                record.Add(field.ToString());
                field.Clear();
                quoted = false;
            }
            else if (c is '\n' or '\r')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                EndRecord();
            }
            else
            {
                field.Append(c);
            }
        }

        if (complete && records.Count < maxRecords && (record.Count > 0 || field.Length > 0 || quoted))
        {
            EndRecord();
        }

        return records;
    }
}
