using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using Platform.Core.AccessKeys;
using Platform.Core.Accounts;
using Platform.Core.Admin;
using Platform.Core.Mail;

namespace Platform.Core.Persistence;

internal sealed class PlatformUserConfiguration : IEntityTypeConfiguration<PlatformUser>
{
    public void Configure(EntityTypeBuilder<PlatformUser> b)
    {
        b.Property(u => u.DisplayName).HasMaxLength(100);
        b.HasOne<Account>().WithMany().HasForeignKey(u => u.CurrentAccountId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class AccountConfiguration : IEntityTypeConfiguration<Account>
{
    public void Configure(EntityTypeBuilder<Account> b)
    {
        b.ToTable("Accounts");
        b.Property(a => a.Name).HasMaxLength(100).IsRequired();
        b.HasIndex(a => a.Name);
    }
}

internal sealed class MembershipConfiguration : IEntityTypeConfiguration<Membership>
{
    public void Configure(EntityTypeBuilder<Membership> b)
    {
        b.ToTable("Memberships");
        b.HasKey(m => new { m.AccountId, m.UserId });
        b.Property(m => m.Role).HasConversion<string>().HasMaxLength(16);
        b.HasOne(m => m.Account).WithMany(a => a.Members).HasForeignKey(m => m.AccountId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(m => m.UserId);
    }
}

internal sealed class InvitationConfiguration : IEntityTypeConfiguration<Invitation>
{
    public void Configure(EntityTypeBuilder<Invitation> b)
    {
        b.ToTable("Invitations");
        b.Property(i => i.Email).HasMaxLength(256).IsRequired();
        b.Property(i => i.NormalizedEmail).HasMaxLength(256).IsRequired();
        b.Property(i => i.Role).HasConversion<string>().HasMaxLength(16);
        b.HasIndex(i => i.TokenHash).IsUnique();
        b.HasIndex(i => new { i.AccountId, i.NormalizedEmail });
        b.HasOne(i => i.Account).WithMany().HasForeignKey(i => i.AccountId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class AccessKeyConfiguration : IEntityTypeConfiguration<AccessKey>
{
    public void Configure(EntityTypeBuilder<AccessKey> b)
    {
        b.ToTable("AccessKeys");
        b.Property(k => k.Name).HasMaxLength(100).IsRequired();
        b.Property(k => k.Prefix).HasMaxLength(32).IsRequired();
        b.Property(k => k.Scope).HasConversion<string>().HasMaxLength(16);
        b.HasIndex(k => k.Prefix).IsUnique();
        b.HasIndex(k => k.UserId);
        b.HasOne<PlatformUser>().WithMany().HasForeignKey(k => k.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OutboxMessageConfiguration : IEntityTypeConfiguration<OutboxMessage>
{
    public void Configure(EntityTypeBuilder<OutboxMessage> b)
    {
        b.ToTable("Outbox");
        b.Property(m => m.To).HasMaxLength(256).IsRequired();
        b.Property(m => m.Subject).HasMaxLength(300).IsRequired();
        b.HasIndex(m => m.CreatedAt);
        b.HasIndex(m => m.SentAt);
    }
}

internal sealed class PlatformSettingConfiguration : IEntityTypeConfiguration<PlatformSetting>
{
    public void Configure(EntityTypeBuilder<PlatformSetting> b)
    {
        b.ToTable("Settings");
        b.HasKey(s => s.Key);
        b.Property(s => s.Key).HasMaxLength(100);
    }
}

internal sealed class ComponentHeartbeatConfiguration : IEntityTypeConfiguration<ComponentHeartbeat>
{
    public void Configure(EntityTypeBuilder<ComponentHeartbeat> b)
    {
        b.ToTable("Heartbeats");
        b.HasKey(h => new { h.Component, h.InstanceId });
        b.Property(h => h.Component).HasMaxLength(50);
        b.Property(h => h.InstanceId).HasMaxLength(100);
        b.Property(h => h.Host).HasMaxLength(200);
        b.Property(h => h.Version).HasMaxLength(50);
    }
}

internal sealed class DataProtectionKeyConfiguration : IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<DataProtectionKey> b)
    {
        b.ToTable("DataProtectionKeys");
        b.Property(k => k.FriendlyName).HasMaxLength(200);
    }
}
