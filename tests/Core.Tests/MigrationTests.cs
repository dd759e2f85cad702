using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Core.Tests;

public sealed class MigrationTests
{
    /// <summary>
    /// Without EF's scaffolder (not in our registry) migrations are written by hand, so this is the check that they
    /// match the model: the schema the migrations build must equal the one EF would create from the model.
    /// </summary>
    [Fact]
    public async Task MigrationsMatchTheModel()
    {
        var server = await PostgresServer.GetAsync();
        var migrated = await server.CreateDatabaseAsync("migrated");
        var modelled = await server.CreateDatabaseAsync("modelled");

        var applied = await DatabaseMigrator.MigrateAsync(migrated);
        Assert.NotEmpty(applied);
        await using (var db = DatabaseMigrator.CreateContext(modelled))
        {
            await db.Database.EnsureCreatedAsync();
        }

        var expected = await DescribeSchemaAsync(modelled);
        var actual = await DescribeSchemaAsync(migrated);
        var missing = expected.Except(actual).ToList();
        var extra = actual.Except(expected).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"The migrations drift from the model.\nIn the model, not built by migrations:\n  {string.Join("\n  ", missing)}\n" +
            $"Built by migrations, not in the model:\n  {string.Join("\n  ", extra)}");
    }

    [Fact]
    public async Task Migrate_IsIdempotent()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("twice");
        Assert.NotEmpty(await DatabaseMigrator.MigrateAsync(database));
        Assert.Empty(await DatabaseMigrator.MigrateAsync(database));
        await using var db = DatabaseMigrator.CreateContext(database);
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    private static async Task<SortedSet<string>> DescribeSchemaAsync(string connectionString)
    {
        const string sql = """
            SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '')
                   || CASE WHEN is_nullable = 'YES' THEN ' null' ELSE ' not null' END || coalesce(' identity ' || identity_generation, '')
              FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass || ' ' || pg_get_constraintdef(oid)
              FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '"__EFMigrationsHistory"'
            """;
        var result = new SortedSet<string>(StringComparer.Ordinal);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            result.Add(reader.GetString(0));
        }

        return result;
    }
}
