using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;
using Platform.Core.Persistence;

namespace Platform.AppHost.Database;

/// <summary>Step 1 and 3 of the start: a PostgreSQL to use, and the schema migrated before any service starts.</summary>
internal static class PlatformDatabase
{
    /// <summary>The connection string for the services: the operator's, or our private cluster's once it accepts connections.</summary>
    public static async Task<string> ProvideAsync(Launch launch, CancellationToken ct)
    {
        if (launch.Options.DatabaseConnectionString is { } given)
        {
            var builder = new NpgsqlConnectionStringBuilder(given);
            launch.Output.Info($"Using the PostgreSQL given in ConnectionStrings:platformdb ({builder.Host}:{builder.Port}/{builder.Database}).");
            return given;
        }

        var account = await PostgresAccount.CurrentAsync(ct);
        var cluster = await PostgresCluster.LocateAsync(launch.Options.DataDirectory, account, launch.Output, ct);
        var binaries = await PostgresBinaries.FindAsync(cluster.MajorVersion, ct);
        await cluster.EnsureCreatedAsync(binaries, ct);
        await StalePostmaster.ClearAsync(cluster.DataDirectory, launch.Output);

        var (port, note) = Ports.Choose(System.Net.IPAddress.Loopback, null, launch.Options.PostgresPort, "PostgreSQL", launch.Ports);
        if (note is not null)
        {
            launch.Output.Info(note);
        }

        var server = launch.Children.Start(cluster.ServerSpec(binaries, port), Supervisor.DatabaseLayer);
        await cluster.WaitReadyAsync(server, port, TimeSpan.FromSeconds(60), ct);
        await cluster.EnsureDatabaseAsync(port, ct);
        launch.Output.Info($"PostgreSQL {cluster.MajorVersion} is ready on 127.0.0.1:{port} (pid {server.Pid}, data in {cluster.DataDirectory}).");
        return cluster.ConnectionString(port, PostgresCluster.DatabaseName);
    }

    /// <summary>
    /// Builds EF Core's model and loads the migrations without a database, on the thread pool: started before
    /// PostgreSQL, it overlaps initdb and the server start, and the migrations step then only talks to the database.
    /// </summary>
    public static Task WarmUpMigrationsAsync() => Task.Run(() =>
    {
        try
        {
            using var db = DatabaseMigrator.CreateContext("Host=127.0.0.1");
            _ = db.Model;
            _ = db.Database.GetMigrations().ToList();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            // Only a head start: MigrateAsync meets and reports the same problem.
        }
    });

    public static async Task MigrateAsync(string connectionString, Task warmUp, ConsoleOutput output, CancellationToken ct)
    {
        IReadOnlyList<string> applied;
        try
        {
            await warmUp;
            applied = await DatabaseMigrator.MigrateAsync(connectionString, ct);
            await Task.Run(() => KeyRing.Ensure(connectionString), ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            var cause = e.GetBaseException();
            throw new StartupFailure($"Applying the database migrations failed: {e.Message}" +
                (cause == e || e.Message.Contains(cause.Message, StringComparison.Ordinal) ? "" : $" ({cause.Message})"));
        }

        output.Info(applied.Count == 0
            ? "Database schema is up to date."
            : $"Applied {applied.Count} migration(s): {string.Join(", ", applied)}.");
    }

    /// <summary>On the thread pool: EF Core compiles the query synchronously, which would hold up the caller.</summary>
    public static Task<int?> CountUsersAsync(string connectionString, CancellationToken ct) => Task.Run(async () =>
    {
        try
        {
            return (int?)await DatabaseMigrator.CountUsersAsync(connectionString, ct);
        }
        catch (NpgsqlException)
        {
            // Only decides whether to print the first-admin hint; never worth failing a started platform for.
            return null;
        }
    }, ct);
}
