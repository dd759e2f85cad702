namespace Platform.Core.Limits;

/// <summary>Platform defaults for what one user may run at once (<c>Platform:Limits</c>); admins override them per user.</summary>
public sealed class LimitsOptions
{
    public const string Section = "Platform:Limits";

    public int MaxDeployments { get; set; } = 10;
    public double MaxCpus { get; set; } = 32;

    /// <summary>AI4OS's rule: at most 2 GPUs per user.</summary>
    public int MaxGpus { get; set; } = 2;
}

/// <summary>A cap and what counts against it; <see cref="Limit"/> null is no cap at this level.</summary>
public sealed record LimitUsage(double? Limit, double Used);

public sealed record LimitsResponse(LimitUsage Deployments, LimitUsage Cpus, LimitUsage Gpus);

/// <summary>The caps an account's master set for a member there, and what the member runs in that account.</summary>
public sealed record AccountLimitsResponse(Guid AccountId, string AccountName, LimitsResponse Limits);

/// <summary><c>GET /me/limits</c>: the platform-wide caps (all accounts together) and each account's own.</summary>
public sealed record MyLimitsResponse(LimitsResponse Platform, IReadOnlyList<AccountLimitsResponse> Accounts);

/// <summary>New caps; a null field clears that cap (an admin's: back to the platform default; a master's: none).</summary>
public sealed record UpdateLimitsRequest(int? MaxDeployments, double? MaxCpus, int? MaxGpus);

/// <summary>What an admin set for a user (null: the platform default) and the resulting caps with usage.</summary>
public sealed record UserLimitsResponse(Guid UserId, int? MaxDeployments, double? MaxCpus, int? MaxGpus, LimitsResponse Effective);

/// <summary>What a master set for a member (null: none), the member's usage there, and the platform caps above it.</summary>
public sealed record MemberLimitsResponse(
    Guid AccountId, Guid UserId, int? MaxDeployments, double? MaxCpus, int? MaxGpus, LimitsResponse Account, LimitsResponse Platform);
