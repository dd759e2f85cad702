using System.Net;
using Microsoft.Extensions.Configuration;
using Platform.Core;

namespace Platform.AppHost.Hosting;

/// <summary>What this run was asked to do, read once from appsettings.json, the environment and the command line.</summary>
internal sealed record AppHostOptions
{
    public const int DefaultPort = 5080;
    public const int DefaultPostgresPort = 54320;

    /// <summary>Web's port when fixed by the operator (0 = any free port); null = 5080, or a free one when taken.</summary>
    public int? Port { get; init; }

    public required IPAddress Host { get; init; }

    public required string DataDirectory { get; init; }

    public bool NoRestart { get; init; }

    public int PostgresPort { get; init; } = DefaultPostgresPort;

    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>ConnectionStrings:platformdb when given: an external PostgreSQL, no private cluster.</summary>
    public string? DatabaseConnectionString { get; init; }

    /// <summary>ConnectionStrings:objectstore when given (S3 or a folder), passed to the services unchanged.</summary>
    public string? ObjectStoreConnectionString { get; init; }

    public string ComputeBackend { get; init; } = "process";

    /// <summary>The public address when the operator states it (a reverse proxy in front); else derived from Web's.</summary>
    public string? PublicUrl { get; init; }

    public required RepositoryLayout Repository { get; init; }

    /// <summary>The whole configuration, for the Platform:* and Mail:* settings handed on to the services.</summary>
    public required IConfiguration Configuration { get; init; }

    public static IConfiguration BuildConfiguration(IReadOnlyDictionary<string, string?> commandLine) =>
        new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(commandLine)
            .Build();

    public static AppHostOptions Load(IConfiguration configuration, RepositoryLayout repository)
    {
        var section = configuration.GetSection("AppHost");
        var dataDirectory = section["DataDir"] is { Length: > 0 } dir ? Path.GetFullPath(dir) : repository.DefaultDataDirectory;
        return new AppHostOptions
        {
            Port = section["Port"] is { Length: > 0 } port ? ParsePort(port, "AppHost:Port (--port)", allowZero: true) : null,
            Host = ParseHost(section["Host"]),
            DataDirectory = dataDirectory,
            NoRestart = bool.TryParse(section["NoRestart"], out var noRestart) && noRestart,
            PostgresPort = section["PostgresPort"] is { Length: > 0 } pg ? ParsePort(pg, "AppHost:PostgresPort", allowZero: false) : DefaultPostgresPort,
            HealthTimeout = TimeSpan.FromSeconds(int.TryParse(section["HealthTimeoutSeconds"], out var seconds) && seconds > 0 ? seconds : 60),
            DatabaseConnectionString = NullIfBlank(configuration.GetConnectionString(CoreExtensions.DatabaseName)),
            ObjectStoreConnectionString = NullIfBlank(configuration.GetConnectionString(CoreExtensions.ObjectStoreName)),
            ComputeBackend = NullIfBlank(configuration["Compute:Backend"]) ?? "process",
            PublicUrl = NullIfBlank(configuration["Platform:PublicUrl"]),
            Repository = repository,
            Configuration = configuration,
        };
    }

    internal static int ParsePort(string value, string setting, bool allowZero)
    {
        if (int.TryParse(value, out var port) && port is >= 0 and <= 65535 && (allowZero || port > 0))
        {
            return port;
        }

        throw new StartupFailure($"{setting} must be a port number (1-65535{(allowZero ? ", or 0 for any free port" : "")}), not '{value}'.");
    }

    internal static IPAddress ParseHost(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        if (value is "*" or "+")
        {
            return IPAddress.Any;
        }

        return IPAddress.TryParse(value.Trim('[', ']'), out var address)
            ? address
            : throw new StartupFailure($"AppHost:Host (--host) must be an IP address such as 127.0.0.1 or 0.0.0.0, not '{value}'.");
    }

    private static string? NullIfBlank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
