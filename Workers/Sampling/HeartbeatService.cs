using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Admin;
using Platform.Core.Persistence;

namespace Platform.Workers.Sampling;

/// <summary>
/// Tells the rest of the platform this worker process is alive: one row per process, refreshed every
/// <see cref="ComponentHealthService.HeartbeatInterval"/>; the admin page reads it. Rows of processes gone for a day are pruned.
/// </summary>
public sealed class HeartbeatService(IServiceScopeFactory scopes, TimeProvider clock, ILogger<HeartbeatService> logger) : BackgroundService
{
    private readonly DateTimeOffset _startedAt = clock.GetUtcNow();
    private readonly string _instanceId = $"{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ComponentHealthService.HeartbeatInterval, clock);
        do
        {
            try
            {
                await BeatAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is DbUpdateException or Npgsql.NpgsqlException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                // The database may be restarting; the next beat tries again and the admin page shows the gap.
                logger.LogWarning(ex, "Heartbeat not written");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task BeatAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var now = clock.GetUtcNow();
        var version = Assembly.GetExecutingAssembly().GetName().Version?.ToString() ?? "";
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO "Heartbeats" ("Component", "InstanceId", "Host", "ProcessId", "Version", "StartedAt", "LastSeenAt")
            VALUES ({ComponentHealthService.WorkersComponent}, {_instanceId}, {Environment.MachineName}, {Environment.ProcessId}, {version}, {_startedAt}, {now})
            ON CONFLICT ("Component", "InstanceId") DO UPDATE SET "LastSeenAt" = EXCLUDED."LastSeenAt"
            """, ct);
        await db.Heartbeats.Where(h => h.LastSeenAt < now.AddDays(-1)).ExecuteDeleteAsync(ct);
    }
}
