using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Database;

/// <summary>The locally installed PostgreSQL server programs (initdb, postgres) and their major version.</summary>
internal sealed record PostgresBinaries(string Directory)
{
    public const string MissingMessage =
        "PostgreSQL server binaries (initdb, postgres) were not found in `pg_config --bindir`, /usr/lib/postgresql/*/bin or PATH. " +
        "Install them with: sudo apt-get install postgresql " +
        "(or point the platform at an existing server with ConnectionStrings__platformdb=\"Host=...;Database=...;Username=...;Password=...\").";

    public string InitDb => Path.Combine(Directory, "initdb");

    public string Postgres => Path.Combine(Directory, "postgres");

    /// <summary>
    /// The first directory holding both programs among: the version an existing cluster was created with (its
    /// PG_VERSION, since a server refuses another major's files), `pg_config --bindir`, the highest
    /// /usr/lib/postgresql/N/bin (Debian keeps every installed major there), then PATH.
    /// </summary>
    public static async Task<PostgresBinaries> FindAsync(string? clusterMajorVersion, CancellationToken ct) =>
        Find(await CandidatesAsync(clusterMajorVersion, ct)) ?? throw new StartupFailure(MissingMessage);

    public static PostgresBinaries? Find(IEnumerable<string> candidates) =>
        candidates.Where(IsServerDirectory).Select(d => new PostgresBinaries(d)).FirstOrDefault();

    private static bool IsServerDirectory(string directory) =>
        File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "postgres"));

    public static async Task<IReadOnlyList<string>> CandidatesAsync(string? clusterMajorVersion, CancellationToken ct)
    {
        var candidates = new List<string>();
        const string debianRoot = "/usr/lib/postgresql";
        if (clusterMajorVersion is not null)
        {
            candidates.Add(Path.Combine(debianRoot, clusterMajorVersion, "bin"));
        }

        if (await PgConfigBinDirectoryAsync(ct) is { } fromPgConfig)
        {
            candidates.Add(fromPgConfig);
        }

        candidates.AddRange(DebianVersionDirectories(debianRoot));
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        return candidates;
    }

    internal static IEnumerable<string> DebianVersionDirectories(string root) =>
        System.IO.Directory.Exists(root)
            ? System.IO.Directory.GetDirectories(root)
                .Select(d => (Directory: d, Version: double.TryParse(Path.GetFileName(d), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(d => d.Version >= 0)
                .OrderByDescending(d => d.Version)
                .Select(d => Path.Combine(d.Directory, "bin"))
            : [];

    private static async Task<string?> PgConfigBinDirectoryAsync(CancellationToken ct)
    {
        if (Command.FindOnPath("pg_config") is not { } pgConfig)
        {
            return null;
        }

        var result = await Command.RunAsync(pgConfig, ["--bindir"], ct);
        return result.Succeeded && result.Output.Length > 0 ? result.Output.Trim() : null;
    }
}
