using System.Security.Claims;

namespace Platform.Api.Authentication;

public static class PlatformClaims
{
    public const string KeyId = "platform:key_id";
    public const string KeyName = "platform:key_name";
    public const string KeyScope = "platform:key_scope";
    public const string KeyExpiresAt = "platform:key_expires_at";

    /// <summary>Set for a workload key only: the deployment whose launch it was made for, and that deployment's account.</summary>
    public const string Deployment = "platform:deployment";
    public const string Account = "platform:account";

    /// <summary>Set for a job key only: the job whose replicas were given it.</summary>
    public const string Job = "platform:job";

    /// <summary>The signed-in user's id; endpoints run only for authenticated users, so it is always there.</summary>
    public static Guid UserId(this ClaimsPrincipal user) =>
        Guid.Parse(user.FindFirstValue(ClaimTypes.NameIdentifier)
            ?? throw new InvalidOperationException("The request has no authenticated user."));
}
