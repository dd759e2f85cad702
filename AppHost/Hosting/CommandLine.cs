namespace Platform.AppHost.Hosting;

/// <summary>The parsed command line: configuration overrides (highest precedence), or help, or an error.</summary>
internal sealed record ParsedCommandLine(IReadOnlyDictionary<string, string?> Settings, bool ShowHelp, string? Error);

/// <summary>
/// A deliberately tiny parser: four options map onto configuration keys, so every option can equally be set
/// in appsettings.json or the environment (AppHost__Port) and one code path reads them.
/// </summary>
internal static class CommandLine
{
    private static readonly Dictionary<string, string> ValueOptions = new(StringComparer.Ordinal)
    {
        ["--port"] = "AppHost:Port",
        ["--host"] = "AppHost:Host",
        ["--data-dir"] = "AppHost:DataDir",
    };

    private static readonly Dictionary<string, string> FlagOptions = new(StringComparer.Ordinal)
    {
        ["--no-restart"] = "AppHost:NoRestart",
    };

    public const string Usage = """
        Usage: dotnet run --project AppHost [-- options]

        Starts PostgreSQL (unless ConnectionStrings__platformdb is set), applies the migrations,
        then Api, Workers and Web, and prints the URL to open. Ctrl+C stops everything.

        Options:
          --port N        Web's port (default 5080, or a free one when 5080 is taken; 0 = any free port).
                          A port given here must be free, or the start fails.
          --host ADDR     address Web listens on (default 127.0.0.1; 0.0.0.0 to expose it).
          --data-dir DIR  data folder for the PostgreSQL cluster and objects (default <repo>/.data).
          --no-restart    when a service dies, stop everything instead of restarting it.
          -h, --help      show this help.

        Each option is also a setting: AppHost:Port, AppHost:Host, AppHost:DataDir, AppHost:NoRestart
        (appsettings.json or environment variables such as AppHost__Port=8080). See docs/operations.md.
        """;

    public static ParsedCommandLine Parse(IReadOnlyList<string> args)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help" or "-?")
            {
                return new(settings, ShowHelp: true, Error: null);
            }

            var (name, inlineValue) = Split(arg);
            if (FlagOptions.TryGetValue(name, out var flagKey) && inlineValue is null)
            {
                settings[flagKey] = "true";
                continue;
            }

            if (!ValueOptions.TryGetValue(name, out var key))
            {
                return new(settings, false, $"Unknown option '{arg}'.");
            }

            var value = inlineValue ?? (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null);
            if (string.IsNullOrWhiteSpace(value))
            {
                return new(settings, false, $"Option '{name}' needs a value.");
            }

            settings[key] = value;
        }

        return new(settings, false, null);
    }

    private static (string Name, string? Value) Split(string arg)
    {
        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return equals > 0 && arg.StartsWith("--", StringComparison.Ordinal) ? (arg[..equals], arg[(equals + 1)..]) : (arg, null);
    }
}
