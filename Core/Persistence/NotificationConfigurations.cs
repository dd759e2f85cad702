using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.Accounts;
using Platform.Core.Notifications;

namespace Platform.Core.Persistence;

internal sealed class NotificationConfiguration : IEntityTypeConfiguration<Notification>
{
    public void Configure(EntityTypeBuilder<Notification> b)
    {
        b.ToTable("Notifications");
        b.Property(n => n.Kind).HasMaxLength(NotificationService.KindMaxLength).IsRequired();
        b.Property(n => n.Title).HasMaxLength(NotificationService.TitleMaxLength).IsRequired();
        b.Property(n => n.Message).HasMaxLength(NotificationService.MessageMaxLength).IsRequired();
        b.Property(n => n.Link).HasMaxLength(NotificationService.LinkMaxLength);
        // The list (newest first, keyset on Id) and the unread count both start from the user.
        b.HasIndex(n => new { n.UserId, n.Id });
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(n => n.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Account>().WithMany().HasForeignKey(n => n.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}
