using Microsoft.AspNetCore.Identity;

namespace Platform.Core.Accounts;

public sealed class PlatformUser : IdentityUser<Guid>
{
    public string DisplayName { get; set; } = "";
    public bool IsPlatformAdmin { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The account the user is working in; pages and new workloads default to it.</summary>
    public Guid? CurrentAccountId { get; set; }

    /// <summary>Platform-wide caps a platform admin set for this user; null takes Platform:Limits (see Limits.LimitService).</summary>
    public int? MaxDeployments { get; set; }
    public double? MaxCpus { get; set; }
    public int? MaxGpus { get; set; }

    /// <summary>The user opted in to receive notifications (jobs starting, ending, failing) by e-mail too.</summary>
    public bool NotifyByEmail { get; set; }
}

/// <summary>A tenant: owns workloads, data and usage. Every user belongs to at least one.</summary>
public sealed class Account
{
    public Guid Id { get; set; }
    public string Name { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Bytes of datasets and models the account may keep; null is unlimited. Set by platform admins.</summary>
    public long? StorageQuotaBytes { get; set; }

    /// <summary>Minutes of inactivity after which a running IDE is stopped; null takes Platform:IdleCulling, 0 is off.</summary>
    public int? IdleCullMinutes { get; set; }

    /// <summary>How long before the stop its owner is warned; null takes Platform:IdleCulling.</summary>
    public int? IdleWarningMinutes { get; set; }
    public List<Membership> Members { get; set; } = [];
}

/// <summary>Ordered by power: a role can do everything the roles below it can.</summary>
public enum AccountRole
{
    Viewer = 0,
    Member = 1,
    Master = 2,
}

public sealed class Membership
{
    public Guid AccountId { get; set; }
    public Guid UserId { get; set; }
    public AccountRole Role { get; set; }
    public DateTimeOffset JoinedAt { get; set; }

    /// <summary>Caps an account master set for this member's work in this account (null: only the platform's).</summary>
    public int? MaxDeployments { get; set; }
    public double? MaxCpus { get; set; }
    public int? MaxGpus { get; set; }
    public Account? Account { get; set; }
    public PlatformUser? User { get; set; }
}

/// <summary>An e-mailed link that lets the holder of that address join an account in a given role.</summary>
public sealed class Invitation
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public string Email { get; set; } = "";
    public string NormalizedEmail { get; set; } = "";
    public AccountRole Role { get; set; }

    /// <summary>SHA-256 of the token in the link; the token itself is only ever in the e-mail.</summary>
    public byte[] TokenHash { get; set; } = [];
    public Guid InvitedByUserId { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }
    public Guid? AcceptedByUserId { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
    public Account? Account { get; set; }

    public InvitationStatus StatusAt(DateTimeOffset now) =>
        AcceptedAt is not null ? InvitationStatus.Accepted
        : RevokedAt is not null ? InvitationStatus.Revoked
        : ExpiresAt <= now ? InvitationStatus.Expired
        : InvitationStatus.Pending;
}

public enum InvitationStatus
{
    Pending,
    Accepted,
    Revoked,
    Expired,
}
