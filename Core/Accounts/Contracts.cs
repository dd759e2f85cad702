namespace Platform.Core.Accounts;

public sealed record UserResponse(Guid Id, string Email, string DisplayName, bool IsPlatformAdmin);

public sealed record AccountResponse(Guid Id, string Name, string Role, DateTimeOffset CreatedAt, int MemberCount);

public sealed record CreateAccountRequest(string? Name);

public sealed record UpdateAccountRequest(string? Name);

public sealed record MemberResponse(Guid UserId, string Email, string DisplayName, string Role, DateTimeOffset JoinedAt);

public sealed record UpdateMemberRequest(string? Role);

public sealed record InvitationResponse(
    Guid Id, Guid AccountId, string Email, string Role, string Status, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt);

public sealed record CreateInvitationRequest(string? Email, string? Role);

public sealed record AcceptInvitationRequest(string? Token);

public sealed record SwitchAccountRequest(Guid? AccountId);

/// <summary>What an invitation link shows before it is accepted: which account, from whom, for which address.</summary>
public sealed record InvitationPreview(string AccountName, string InvitedBy, string Email, string Role, string Status);

public sealed record RegisterRequest(string? Email, string? Password, string? DisplayName, string? InvitationToken);

public static class Roles
{
    public static string ToApi(this AccountRole role) => role.ToString().ToLowerInvariant();

    public static bool TryParse(string? value, out AccountRole role)
    {
        role = default;
        return !string.IsNullOrWhiteSpace(value)
            && !int.TryParse(value, out _)
            && Enum.TryParse(value.Trim(), ignoreCase: true, out role)
            && Enum.IsDefined(role);
    }
}
