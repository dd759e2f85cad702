namespace Platform.Core.Mail;

/// <summary>
/// Every mail the platform sends is written here first, so none is lost: with SMTP configured it is
/// delivered (and retried by Workers when delivery fails); without SMTP an admin reads it in the UI.
/// </summary>
public sealed class OutboxMessage
{
    public Guid Id { get; set; }
    public string To { get; set; } = "";
    public string Subject { get; set; } = "";
    public string TextBody { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? SentAt { get; set; }
    public int Attempts { get; set; }
    public string? LastError { get; set; }
}
