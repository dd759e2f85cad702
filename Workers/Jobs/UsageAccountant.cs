using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Deployments;
using Platform.Core.Persistence;
using Platform.Core.Usage;

namespace Platform.Workers.Jobs;

/// <summary>
/// Runs <see cref="UsageAccounting"/> every minute, and a moment after any job or deployment changes (LISTEN on the
/// <c>jobs</c> and <c>deployments</c> channels), so a workload's last hour is final soon after it ends. Every pass
/// recomputes and overwrites (see <see cref="UsageAccounting"/>), so running it twice, or from two Workers at once,
/// writes the same numbers.
/// </summary>
public sealed class UsageAccountant(IServiceScopeFactory scopes, Microsoft.Extensions.Options.IOptions<UsageOptions> options, ILogger<UsageAccountant> logger)
    : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _ = ListenAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await scope.ServiceProvider.GetRequiredService<UsageAccounting>().AccountAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Usage accounting failed; the next pass recomputes the same hours");
            }

            try
            {
                await _wake.WaitAsync(options.Value.AccountingInterval, stoppingToken);
                // Changes come in bursts (a job's replicas end together): one pass after the burst covers them all.
                await Task.Delay(TimeSpan.FromSeconds(2), stoppingToken);
                while (_wake.CurrentCount > 0)
                {
                    await _wake.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        string connectionString;
        using (var scope = scopes.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Database.GetConnectionString()!;
        }

        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, _) => _wake.Release();
                await using (var listen = new NpgsqlCommand($"LISTEN {Platform.Core.Jobs.JobService.Channel}; LISTEN {DeploymentService.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                logger.LogWarning(ex, "LISTEN for usage accounting lost; the minute's pass covers until it is back");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
