using System.Globalization;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Platform.Core.AccessKeys;
using Platform.Core.Deployments;
using Platform.Core.Jobs;

namespace Platform.Api.Authentication;

/// <summary>
/// <c>Authorization: Bearer plat_…</c>. A missing header is "no result" (the cookie may still sign the user in);
/// a bad, expired or revoked key fails with a reason that the 401 ProblemDetails repeats. A workload key
/// (<c>plat_dep_…</c>, <see cref="WorkloadKeys"/>) signs in as the deployment's owner with full scope, the same claims
/// as an access key's plus the deployment and its account. A job key (<c>plat_job_…</c>, <see cref="JobKeys"/>) likewise
/// signs in as the job's owner, with the job and its account.
/// </summary>
public sealed class AccessKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AccessKey";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!TryGetBearer(Request, out var presented))
        {
            return AuthenticateResult.NoResult();
        }

        if (WorkloadKeys.IsWorkloadKey(presented))
        {
            return await AuthenticateWorkloadAsync(presented);
        }

        if (JobKeys.IsJobKey(presented))
        {
            return await AuthenticateJobAsync(presented);
        }

        var cache = Context.RequestServices.GetRequiredService<AccessKeyCache>();
        if (!cache.TryGet(presented, out var key))
        {
            var generation = cache.Generation;
            var keys = Context.RequestServices.GetRequiredService<AccessKeyService>();
            var result = await keys.AuthenticateAsync(presented, Context.RequestAborted);
            if (!result.IsSuccess)
            {
                return AuthenticateResult.Fail(result.Error!.Message);
            }

            key = result.Value!;
            cache.Add(presented, key, generation);
        }

        List<Claim> claims =
        [
            new(ClaimTypes.NameIdentifier, key.UserId.ToString()),
            new(PlatformClaims.KeyId, key.KeyId.ToString()),
            new(PlatformClaims.KeyName, key.KeyName),
            new(PlatformClaims.KeyScope, AccessKeyService.ScopeToApi(key.Scope)),
        ];
        if (key.ExpiresAt is { } expires)
        {
            claims.Add(new Claim(PlatformClaims.KeyExpiresAt, expires.ToString("O", CultureInfo.InvariantCulture)));
        }

        return Success(claims);
    }

    private async Task<AuthenticateResult> AuthenticateWorkloadAsync(string presented)
    {
        var workloads = Context.RequestServices.GetRequiredService<WorkloadKeys>();
        var result = await workloads.AuthenticateAsync(presented, Context.RequestAborted);
        if (!result.IsSuccess)
        {
            return AuthenticateResult.Fail(result.Error!.Message);
        }

        var key = result.Value!;
        return Success(
        [
            new(ClaimTypes.NameIdentifier, key.UserId.ToString()),
            new(PlatformClaims.KeyName, $"deployment '{key.Title}'"),
            new(PlatformClaims.KeyScope, AccessKeyService.ScopeToApi(AccessKeyScope.Full)),
            new(PlatformClaims.Deployment, key.DeploymentId.ToString()),
            new(PlatformClaims.Account, key.AccountId.ToString()),
        ]);
    }

    /// <summary>A job's key (<c>plat_job_…</c>): its owner, while the job starts or runs, with the job named in a claim.</summary>
    private async Task<AuthenticateResult> AuthenticateJobAsync(string presented)
    {
        var jobs = Context.RequestServices.GetRequiredService<JobKeys>();
        var result = await jobs.AuthenticateAsync(presented, Context.RequestAborted);
        if (!result.IsSuccess)
        {
            return AuthenticateResult.Fail(result.Error!.Message);
        }

        var key = result.Value!;
        return Success(
        [
            new(ClaimTypes.NameIdentifier, key.UserId.ToString()),
            new(PlatformClaims.KeyName, $"job '{key.Name}'"),
            new(PlatformClaims.KeyScope, AccessKeyService.ScopeToApi(AccessKeyScope.Full)),
            new(PlatformClaims.Job, key.JobId.ToString()),
            new(PlatformClaims.Account, key.AccountId.ToString()),
        ]);
    }

    private static AuthenticateResult Success(IEnumerable<Claim> claims) =>
        AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName)), SchemeName));

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var failure = (await HandleAuthenticateOnceSafeAsync()).Failure?.Message;
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = failure is null
            ? "Bearer"
            : $"Bearer error=\"invalid_token\", error_description=\"{failure.Replace("\"", "'", StringComparison.Ordinal)}\"";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Unauthorized",
                Detail = failure ?? "Sign in, or send an access key as 'Authorization: Bearer <key>'.",
            },
        });
    }

    public static bool TryGetBearer(HttpRequest request, out string token)
    {
        token = "";
        var header = request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        token = header["Bearer ".Length..].Trim();
        return token.Length > 0;
    }
}
