using System.Text;

namespace Platform.Core.Jobs;

/// <summary>
/// Turns what people type into what a job runs: a command line into argv (the way a POSIX shell splits words, without
/// expanding anything), and key=value lines into options. Each gives a message to show beside the field when the text
/// cannot be read.
/// </summary>
public static class CommandLine
{
    /// <summary>
    /// Splits on unquoted blanks. 'single quotes' keep everything literally; "double quotes" keep everything but \" \\ \$
    /// \` (backslash escapes); outside quotes a backslash keeps the next character. Nothing is expanded ($HOME stays).
    /// </summary>
    public static (IReadOnlyList<string> Arguments, string? Error) Split(string? text)
    {
        var arguments = new List<string>();
        if (string.IsNullOrWhiteSpace(text))
        {
            return (arguments, null);
        }

        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            switch (c)
            {
                case ' ' or '\t' or '\n' or '\r':
                    if (inWord)
                    {
                        arguments.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }

                    break;
                case '\'':
                    var close = text.IndexOf('\'', i + 1);
                    if (close < 0)
                    {
                        return (arguments, $"A single quote at character {i + 1} is never closed.");
                    }

                    word.Append(text, i + 1, close - i - 1);
                    i = close;
                    inWord = true;
                    break;
                case '"':
                    var start = i;
                    for (i++; ; i++)
                    {
                        if (i >= text.Length)
                        {
                            return (arguments, $"A double quote at character {start + 1} is never closed.");
                        }

                        if (text[i] == '"')
                        {
                            break;
                        }

                        if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            i++;
                        }

                        word.Append(text[i]);
                    }

                    inWord = true;
                    break;
                case '\\':
                    if (i + 1 >= text.Length)
                    {
                        return (arguments, "The command ends with a lone backslash.");
                    }

                    i++;
                    if (text[i] != '\n')
                    {
                        word.Append(text[i]);
                        inWord = true;
                    }

                    break;
                default:
                    word.Append(c);
                    inWord = true;
                    break;
            }
        }

        if (inWord)
        {
            arguments.Add(word.ToString());
        }

        return (arguments, null);
    }

    /// <summary>Writes argv back as one line that <see cref="Split"/> reads into the same arguments.</summary>
    public static string Join(IEnumerable<string> arguments) => string.Join(' ', arguments.Select(Quote));

    private static string Quote(string argument) =>
        argument.Length > 0 && argument.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,+@%".Contains(c))
            ? argument
            : "'" + argument.Replace("'", "'\\''") + "'";

    /// <summary>key=value, one a line; blank lines and lines starting with # are skipped. The value may hold '='.</summary>
    public static (IReadOnlyDictionary<string, string> Options, string? Error) Options(string? text)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = (text ?? "").Split('\n');
        for (var n = 0; n < lines.Length; n++)
        {
            var line = lines[n].TrimEnd('\r').Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var equals = line.IndexOf('=');
            if (equals <= 0)
            {
                return (options, $"Line {n + 1} ('{(line.Length > 40 ? line[..40] + "…" : line)}') is not key=value.");
            }

            var key = line[..equals].Trim();
            if (!options.TryAdd(key, line[(equals + 1)..].Trim()))
            {
                return (options, $"Line {n + 1} sets '{key}' a second time.");
            }
        }

        return (options, null);
    }
}
