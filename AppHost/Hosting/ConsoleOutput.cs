namespace Platform.AppHost.Hosting;

/// <summary>
/// One console shared by the AppHost and its children: each line is written whole, under one lock, behind a
/// fixed-width source prefix, so interleaved output from five processes stays readable. Colour only on a terminal.
/// </summary>
internal sealed class ConsoleOutput
{
    public const string Self = "apphost";

    // "[postgres] " is the longest prefix; the others are padded to it so the messages line up.
    private const int PrefixWidth = 11;

    private static readonly Dictionary<string, string> Colours = new(StringComparer.Ordinal)
    {
        ["api"] = "\u001b[36m",
        ["web"] = "\u001b[35m",
        ["workers"] = "\u001b[33m",
        ["postgres"] = "\u001b[34m",
        [Self] = "\u001b[32m",
    };

    private const string Reset = "\u001b[0m";
    private const string Red = "\u001b[31m";
    private const string Bold = "\u001b[1m";

    private readonly Lock _gate = new();
    private readonly bool _colour;

    public ConsoleOutput(bool? colour = null) =>
        _colour = colour ?? (!Console.IsOutputRedirected && Environment.GetEnvironmentVariable("NO_COLOR") is null);

    /// <summary>A line from a child process.</summary>
    public void Line(string source, string text) => Write(Console.Out, source, text, Colours.GetValueOrDefault(source));

    public void Info(string text) => Write(Console.Out, Self, text, Colours[Self]);

    public void Warn(string text) => Write(Console.Out, Self, text, Colours["workers"]);

    public void Error(string text) => Write(Console.Error, Self, text, Red);

    /// <summary>The few lines a person must see (the URL to open): no prefix, bold.</summary>
    public void Headline(string text)
    {
        lock (_gate)
        {
            Console.Out.WriteLine(_colour ? $"{Bold}{text}{Reset}" : text);
            Console.Out.Flush();
        }
    }

    public static string Prefix(string source) => $"[{source}]".PadRight(PrefixWidth - 1) + " ";

    private void Write(TextWriter writer, string source, string text, string? colour)
    {
        var prefix = Prefix(source);
        lock (_gate)
        {
            foreach (var line in text.Split('\n'))
            {
                writer.WriteLine(_colour && colour is not null ? $"{colour}{prefix}{Reset}{line}" : prefix + line);
            }

            writer.Flush();
        }
    }
}
