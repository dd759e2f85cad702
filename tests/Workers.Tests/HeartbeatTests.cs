using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Admin;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Workers.Tests;

public sealed class HeartbeatTests
{
    [Fact]
    public async Task RunningWorkers_AreReportedHealthy_ByTheAdminHealthCheck()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("workers");
        await DatabaseMigrator.MigrateAsync(database);
        await using var workers = new WebApplicationFactory<WorkersMarker>()
            .WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:platformdb", database));
        using var client = workers.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        ComponentHealth? reported = null;
        while (DateTime.UtcNow < deadline)
        {
            using var scope = workers.Services.CreateScope();
            var health = await scope.ServiceProvider.GetRequiredService<ComponentHealthService>().CheckAllAsync();
            reported = health.Single(h => h.Name == "workers");
            if (reported.Status == "Healthy")
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.Equal("Healthy", reported?.Status);
        Assert.Contains($"pid {Environment.ProcessId}", reported!.Detail);
    }

    [Fact]
    public async Task Heartbeat_IsOneRowPerProcess_UpdatedInPlace()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("beats");
        await DatabaseMigrator.MigrateAsync(database);
        await using var workers = new WebApplicationFactory<WorkersMarker>()
            .WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:platformdb", database));
        _ = workers.Server;
        var heartbeat = workers.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<Sampling.HeartbeatService>().Single();
        await heartbeat.BeatAsync(CancellationToken.None);
        await using var db = DatabaseMigrator.CreateContext(database);
        var first = await db.Heartbeats.AsNoTracking().SingleAsync();
        await Task.Delay(20);
        await heartbeat.BeatAsync(CancellationToken.None);
        var second = await db.Heartbeats.AsNoTracking().SingleAsync();
        Assert.Equal(first.InstanceId, second.InstanceId);
        Assert.True(second.LastSeenAt > first.LastSeenAt);
        Assert.Equal(first.StartedAt, second.StartedAt);
    }
}
