using Npgsql;
using Platform.Tests.Fixtures;

namespace Platform.Core.Tests;

public class PostgresServerTests
{
    [Fact]
    public async Task CreateDatabase_GivesAnEmptyDatabaseThatAnswers()
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = await server.CreateDatabaseAsync();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'", connection);
        Assert.Equal(0L, await command.ExecuteScalarAsync());
    }
}
