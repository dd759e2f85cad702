using Platform.Core.Datasets;

namespace Platform.Workers.Storage;

/// <summary>Runs <see cref="OrphanSweeper"/> shortly after start and then every few hours, so leaked bytes are reclaimed.</summary>
public sealed class OrphanSweepService(IServiceScopeFactory scopes, IConfiguration configuration, TimeProvider clock, ILogger<OrphanSweepService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = configuration.GetValue("Platform:Storage:OrphanSweepInterval", TimeSpan.FromHours(6));
        await Task.Delay(TimeSpan.FromMinutes(1), clock, stoppingToken);
        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            try
            {
                using var scope = scopes.CreateScope();
                var removed = await scope.ServiceProvider.GetRequiredService<OrphanSweeper>().SweepAsync(stoppingToken);
                if (removed > 0)
                {
                    logger.LogInformation("Removed {Count} stored object(s) that no file referred to", removed);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                logger.LogWarning(ex, "The orphaned-object sweep failed; it runs again in {Interval}", interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
