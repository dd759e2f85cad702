using Platform.Core.Datasets;

namespace Platform.Workers.Datasets;

/// <summary>
/// Every <see cref="Interval"/>, aborts the uploads that expired (a day without a part) and frees their parts and
/// quota. Any number of workers may run it: <see cref="ExpiredUploads"/> claims rows so each upload is handled once.
/// </summary>
public sealed class UploadExpiryService(IServiceScopeFactory scopes, TimeProvider clock, ILogger<UploadExpiryService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(10);

    private const int BatchSize = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, clock);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The database or the object store may be away; the rows stay and the next sweep tries again.
                logger.LogWarning(ex, "Expired uploads not swept");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Aborts every expired upload, a batch at a time; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken ct)
    {
        var total = 0;
        while (true)
        {
            using var scope = scopes.CreateScope();
            var aborted = await scope.ServiceProvider.GetRequiredService<ExpiredUploads>().AbortBatchAsync(BatchSize, ct);
            total += aborted;
            if (aborted < BatchSize)
            {
                if (total > 0)
                {
                    logger.LogInformation("Aborted {Count} expired upload(s)", total);
                }

                return total;
            }
        }
    }
}
