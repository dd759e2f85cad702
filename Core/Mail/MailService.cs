using System.Net;
using System.Net.Mail;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Core.Persistence;

namespace Platform.Core.Mail;

public sealed class MailOptions
{
    public const string Section = "Mail";

    /// <summary>SMTP server host; when empty, mail stays in the outbox for an admin to read.</summary>
    public string? SmtpHost { get; set; }
    public int SmtpPort { get; set; } = 587;
    public bool SmtpUseSsl { get; set; } = true;
    public string? SmtpUser { get; set; }
    public string? SmtpPassword { get; set; }
    public string From { get; set; } = "platform@localhost";

    public bool SmtpConfigured => !string.IsNullOrWhiteSpace(SmtpHost);
}

/// <summary>
/// The one way mail leaves the platform. Each message is committed to the outbox before delivery is tried,
/// so a failed or absent SMTP server never loses one; undelivered messages are retried by Workers.
/// </summary>
public sealed class MailService(PlatformDbContext db, IOptions<MailOptions> options, TimeProvider clock, ILogger<MailService> logger)
{
    public const int MaxAttempts = 10;

    public async Task<OutboxMessage> SendAsync(string to, string subject, string textBody, CancellationToken ct = default)
    {
        var message = new OutboxMessage
        {
            Id = Guid.CreateVersion7(),
            To = to,
            Subject = subject,
            TextBody = textBody,
            CreatedAt = clock.GetUtcNow(),
        };
        db.Outbox.Add(message);
        await db.SaveChangesAsync(ct);

        if (options.Value.SmtpConfigured)
        {
            await TryDeliverAsync(message, ct);
        }
        else
        {
            logger.LogInformation("Mail to {To} ({Subject}) kept in the outbox: no SMTP server is configured", to, subject);
        }

        return message;
    }

    /// <summary>Retries messages that SMTP has not accepted yet, oldest first; returns how many were delivered.</summary>
    public async Task<int> RetryPendingAsync(int batch, CancellationToken ct = default)
    {
        if (!options.Value.SmtpConfigured)
        {
            return 0;
        }

        var pending = await db.Outbox.Where(m => m.SentAt == null && m.Attempts < MaxAttempts)
            .OrderBy(m => m.CreatedAt).Take(batch).ToListAsync(ct);
        var delivered = 0;
        foreach (var message in pending)
        {
            delivered += await TryDeliverAsync(message, ct) ? 1 : 0;
        }

        return delivered;
    }

    private async Task<bool> TryDeliverAsync(OutboxMessage message, CancellationToken ct)
    {
        var o = options.Value;
        message.Attempts++;
        try
        {
            using var client = new SmtpClient(o.SmtpHost, o.SmtpPort) { EnableSsl = o.SmtpUseSsl };
            if (!string.IsNullOrEmpty(o.SmtpUser))
            {
                client.Credentials = new NetworkCredential(o.SmtpUser, o.SmtpPassword);
            }

            using var mail = new MailMessage(o.From, message.To, message.Subject, message.TextBody);
            await client.SendMailAsync(mail, ct);
            message.SentAt = clock.GetUtcNow();
            message.LastError = null;
        }
        catch (Exception ex) when (ex is SmtpException or InvalidOperationException or IOException or FormatException)
        {
            message.LastError = ex.Message;
            logger.LogWarning(ex, "Mail to {To} not delivered (attempt {Attempt}); it stays in the outbox", message.To, message.Attempts);
        }

        await db.SaveChangesAsync(CancellationToken.None);
        return message.SentAt is not null;
    }
}
