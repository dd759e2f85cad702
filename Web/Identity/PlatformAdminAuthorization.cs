using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Platform.Core.Accounts;
using Platform.Core.Admin;

namespace Platform.Web.Identity;

/// <summary>The user is a platform admin right now, according to the database.</summary>
public sealed class PlatformAdminRequirement : IAuthorizationRequirement
{
    public const string PolicyName = "PlatformAdmin";
}

/// <summary>
/// Asks <see cref="AdminService.RequireAdminAsync"/> on every request instead of trusting a cookie claim, so that
/// withdrawing admin takes effect on the very next request rather than when the cookie is reissued.
/// </summary>
public sealed class PlatformAdminHandler(AdminService admin, UserManager<PlatformUser> users) : AuthorizationHandler<PlatformAdminRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, PlatformAdminRequirement requirement)
    {
        if (!Guid.TryParse(users.GetUserId(context.User), out var userId))
        {
            return;
        }

        var check = await admin.RequireAdminAsync(userId);
        if (check.IsSuccess)
        {
            context.Succeed(requirement);
        }
    }
}
