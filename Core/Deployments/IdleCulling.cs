using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Deployments;

/// <summary>Platform defaults of idle culling (<c>Platform:IdleCulling</c>); each account may set its own.</summary>
public sealed class IdleCullingOptions
{
    public const string Section = "Platform:IdleCulling";

    /// <summary>Minutes without use after which a running IDE is stopped; 0 turns culling off where accounts set nothing.</summary>
    public int CullMinutes { get; set; } = 240;

    /// <summary>How many minutes before the stop the owner is warned.</summary>
    public int WarningMinutes { get; set; } = 10;

    /// <summary>How long one of those "minutes" lasts: a minute, except in tests that cull within seconds.</summary>
    public TimeSpan Minute { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How often Workers look at running IDEs.</summary>
    public TimeSpan CheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The proxy records use of an IDE at most this often per deployment (Web's <c>IdeActivity</c>).</summary>
    public TimeSpan ActivityWriteInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>GPU utilisation (percent) at or below which a GPU counts as idle.</summary>
    public double GpuIdlePercent { get; set; } = 5;
}

public sealed record IdleSettingsResponse(Guid AccountId, int? IdleCullMinutes, int? IdleWarningMinutes, int EffectiveCullMinutes, int EffectiveWarningMinutes);

/// <summary>Null fields take the platform default; a cull time of 0 turns culling off for the account.</summary>
public sealed record UpdateIdleSettingsRequest(int? IdleCullMinutes, int? IdleWarningMinutes);

/// <summary>An account's idle-culling settings: every member may read them, masters and platform admins change them.</summary>
public sealed class IdleSettingsService(PlatformDbContext db, AccountService accounts, IOptions<IdleCullingOptions> options)
{
    public const int MaxMinutes = 7 * 24 * 60;

    public async Task<Result<IdleSettingsResponse>> GetAsync(Guid callerId, Guid accountId, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(callerId, accountId, AccountRole.Viewer, ct);
        return access.IsSuccess ? await DescribeAsync(accountId, ct) : access.Error!;
    }

    public async Task<Result<IdleSettingsResponse>> SetAsMasterAsync(Guid callerId, Guid accountId, UpdateIdleSettingsRequest request, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(callerId, accountId, AccountRole.Master, ct);
        return access.IsSuccess ? await SetAsync(accountId, request, ct) : access.Error!;
    }

    /// <summary>For platform admins (the caller checks): any account.</summary>
    public async Task<Result<IdleSettingsResponse>> SetAsync(Guid accountId, UpdateIdleSettingsRequest request, CancellationToken ct = default)
    {
        var errors = new FieldErrors();
        if (request.IdleCullMinutes is < 0 or > MaxMinutes)
        {
            errors.Add("idleCullMinutes", $"Give 1 to {MaxMinutes} minutes, 0 to never stop idle IDEs, or nothing for the platform default.");
        }

        var cull = request.IdleCullMinutes ?? options.Value.CullMinutes;
        if (request.IdleWarningMinutes is { } warning && (warning < 0 || cull > 0 && warning >= cull))
        {
            errors.Add("idleWarningMinutes", $"The warning comes 0 to {Math.Max(0, cull - 1)} minutes before the stop.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var updated = await db.Accounts.Where(a => a.Id == accountId).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.IdleCullMinutes, request.IdleCullMinutes)
            .SetProperty(a => a.IdleWarningMinutes, request.IdleWarningMinutes), ct);
        return updated == 0 ? Error.NotFound("Account") : await DescribeAsync(accountId, ct);
    }

    /// <summary>For platform admins (the caller checks): any account's settings.</summary>
    public async Task<Result<IdleSettingsResponse>> DescribeAsync(Guid accountId, CancellationToken ct)
    {
        var account = await db.Accounts.AsNoTracking().Where(a => a.Id == accountId)
            .Select(a => new { a.IdleCullMinutes, a.IdleWarningMinutes }).FirstOrDefaultAsync(ct);
        if (account is null)
        {
            return Error.NotFound("Account");
        }

        var (cull, warning) = Effective(account.IdleCullMinutes, account.IdleWarningMinutes, options.Value);
        return new IdleSettingsResponse(accountId, account.IdleCullMinutes, account.IdleWarningMinutes, cull, warning);
    }

    /// <summary>The minutes that apply: the account's, else the platform's; the warning never at or after the stop.</summary>
    public static (int CullMinutes, int WarningMinutes) Effective(int? cullMinutes, int? warningMinutes, IdleCullingOptions defaults)
    {
        var cull = cullMinutes ?? defaults.CullMinutes;
        var warning = warningMinutes ?? defaults.WarningMinutes;
        return (cull, cull <= 0 ? 0 : Math.Clamp(warning, 0, cull - 1));
    }
}
