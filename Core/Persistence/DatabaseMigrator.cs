using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Platform.Core.Persistence;

/// <summary>Applies the EF Core migrations; run once by the AppHost (or an operator) before the services start.</summary>
public static class DatabaseMigrator
{
    public static async Task<IReadOnlyList<string>> MigrateAsync(string connectionString, CancellationToken ct = default)
    {
        await using var db = CreateContext(connectionString);
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).ToList();
        await db.Database.MigrateAsync(ct);
        return pending;
    }

    public static async Task<int> CountUsersAsync(string connectionString, CancellationToken ct = default)
    {
        await using var db = CreateContext(connectionString);
        return await db.Users.CountAsync(ct);
    }

    public static PlatformDbContext CreateContext(string connectionString)
    {
        var options = new DbContextOptionsBuilder<PlatformDbContext>();
        Configure(options, connectionString);
        return new PlatformDbContext(options.Options);
    }

    internal static void Configure(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(WithAutoPrepare(connectionString), npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory"))
            // The EF Core Design package cannot be restored from our registry, so migrations are written without
            // the scaffolder and there is no model snapshot; MigrationsMatchTheModel (tests) checks for drift instead.
            .ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));

    /// <summary>
    /// The platform's statements are few and repeated thousands of times (a metrics batch, a job's claim, an access
    /// key's lookup): Npgsql prepares each after its second use on a connection, so PostgreSQL parses and plans it once
    /// per connection instead of per call. A connection string that sets <c>Max Auto Prepare</c> itself is kept.
    /// </summary>
    public static string WithAutoPrepare(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase)
            && !connectionString.Contains("AutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        return builder.ConnectionString;
    }
}
