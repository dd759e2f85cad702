using Microsoft.Extensions.Options;
using Platform.Core.Mail;

namespace Platform.Workers.Mail;

/// <summary>Retries mail that SMTP did not accept when it was sent (at least once: a message may go out twice, never zero times).</summary>
public sealed class OutboxDispatcher(IServiceScopeFactory scopes, IOptions<MailOptions> options, TimeProvider clock, ILogger<OutboxDispatcher> logger)
    : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.SmtpConfigured)
        {
            logger.LogInformation("No SMTP server configured: mail stays in the outbox, readable on the admin page");
            return;
        }

        using var timer = new PeriodicTimer(Interval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            using var scope = scopes.CreateScope();
            var delivered = await scope.ServiceProvider.GetRequiredService<MailService>().RetryPendingAsync(20, stoppingToken);
            if (delivered > 0)
            {
                logger.LogInformation("Delivered {Count} mail(s) from the outbox", delivered);
            }
        }
    }
}
