using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Persistence;

namespace Platform.Core.Limits;

/// <summary>
/// How many deployments, CPUs and GPUs a user may want running at once. Two levels: platform-wide (the
/// <see cref="LimitsOptions"/> default, or what a platform admin set on the user), counted over all the user's accounts;
/// and per account (what the account's master set on the membership), counted in that account, never above the
/// platform's. What counts is what is wanted running (<see cref="DesiredState.Running"/>), started or not.
/// </summary>
public sealed class LimitService(PlatformDbContext db, AccountService accounts, IOptions<LimitsOptions> options)
{
    private LimitsOptions Defaults => options.Value;

    private sealed record Caps(int? Deployments, double? Cpus, int? Gpus);

    private sealed record Usage(int Deployments, double Cpus, int Gpus);

    /// <summary>
    /// Null when wanting <paramref name="cpus"/> and <paramref name="gpus"/> more running fits every cap of the user;
    /// otherwise the reason, on the field to change (<paramref name="fields"/>) or as a conflict. Takes a lock per user
    /// for the caller's transaction, so two requests at once cannot both take the last slot: call it inside the
    /// transaction that then records the desire.
    /// </summary>
    public async Task<Error?> CheckAsync(Guid userId, Guid accountId, double cpus, int gpus, Guid? excluding, bool fields, CancellationToken ct)
    {
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock(hashtextextended({"limits:" + userId}, 0))", ct);
        var platform = await PlatformCapsAsync(userId, ct);
        var platformUse = await UsageAsync(userId, null, excluding, ct);
        var reason = Exceeds(platform, platformUse, cpus, gpus, "");
        if (reason is null)
        {
            var member = await db.Memberships.AsNoTracking().Where(m => m.AccountId == accountId && m.UserId == userId)
                .Select(m => new { Caps = new Caps(m.MaxDeployments, m.MaxCpus, m.MaxGpus), m.Account!.Name }).FirstOrDefaultAsync(ct);
            if (member is not null)
            {
                reason = Exceeds(member.Caps, await UsageAsync(userId, accountId, excluding, ct), cpus, gpus, $" in {member.Name}");
            }
        }

        return reason switch
        {
            null => null,
            var (field, message) when fields && field is not null => Error.Invalid(field, message),
            var (_, message) => Error.Conflict(message),
        };
    }

    public async Task<MyLimitsResponse> GetMineAsync(Guid userId, CancellationToken ct = default)
    {
        var platform = Describe(await PlatformCapsAsync(userId, ct), await UsageAsync(userId, null, null, ct));
        var memberships = await db.Memberships.AsNoTracking().Where(m => m.UserId == userId).OrderBy(m => m.Account!.Name)
            .Select(m => new { m.AccountId, m.Account!.Name, Caps = new Caps(m.MaxDeployments, m.MaxCpus, m.MaxGpus) }).ToListAsync(ct);
        var perAccount = new List<AccountLimitsResponse>();
        foreach (var m in memberships)
        {
            perAccount.Add(new AccountLimitsResponse(m.AccountId, m.Name, Describe(m.Caps, await UsageAsync(userId, m.AccountId, null, ct))));
        }

        return new MyLimitsResponse(platform, perAccount);
    }

    /// <summary>For platform admins (the caller checks): what is set on the user and what results.</summary>
    public async Task<Result<UserLimitsResponse>> GetUserAsync(Guid userId, CancellationToken ct = default)
    {
        var set = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new Caps(u.MaxDeployments, u.MaxCpus, u.MaxGpus)).FirstOrDefaultAsync(ct);
        if (set is null)
        {
            return Error.NotFound("User");
        }

        var effective = Describe(await PlatformCapsAsync(userId, ct), await UsageAsync(userId, null, null, ct));
        return new UserLimitsResponse(userId, set.Deployments, set.Cpus, set.Gpus, effective);
    }

    /// <summary>For platform admins (the caller checks). Lowering a cap stops nothing; it refuses the next start.</summary>
    public async Task<Result<UserLimitsResponse>> SetUserAsync(Guid userId, UpdateLimitsRequest request, CancellationToken ct = default)
    {
        if (Validate(request, null) is { } invalid)
        {
            return invalid;
        }

        var updated = await db.Users.Where(u => u.Id == userId).ExecuteUpdateAsync(s => s
            .SetProperty(u => u.MaxDeployments, request.MaxDeployments)
            .SetProperty(u => u.MaxCpus, request.MaxCpus)
            .SetProperty(u => u.MaxGpus, request.MaxGpus), ct);
        return updated == 0 ? Error.NotFound("User") : await GetUserAsync(userId, ct);
    }

    /// <summary>A member's caps in an account, for the account's masters (others: not found or forbidden).</summary>
    public async Task<Result<MemberLimitsResponse>> GetMemberAsync(Guid callerId, Guid accountId, Guid memberId, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(callerId, accountId, AccountRole.Master, ct);
        return access.IsSuccess ? await DescribeMemberAsync(accountId, memberId, ct) : access.Error!;
    }

    /// <summary>A master sets a member's caps in the account; none may be above what the platform allows that member.</summary>
    public async Task<Result<MemberLimitsResponse>> SetMemberAsync(
        Guid callerId, Guid accountId, Guid memberId, UpdateLimitsRequest request, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(callerId, accountId, AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        if (!await db.Memberships.AnyAsync(m => m.AccountId == accountId && m.UserId == memberId, ct))
        {
            return Error.NotFound("Member");
        }

        if (Validate(request, await PlatformCapsAsync(memberId, ct)) is { } invalid)
        {
            return invalid;
        }

        await db.Memberships.Where(m => m.AccountId == accountId && m.UserId == memberId).ExecuteUpdateAsync(s => s
            .SetProperty(m => m.MaxDeployments, request.MaxDeployments)
            .SetProperty(m => m.MaxCpus, request.MaxCpus)
            .SetProperty(m => m.MaxGpus, request.MaxGpus), ct);
        return await DescribeMemberAsync(accountId, memberId, ct);
    }

    private async Task<Result<MemberLimitsResponse>> DescribeMemberAsync(Guid accountId, Guid memberId, CancellationToken ct)
    {
        var set = await db.Memberships.AsNoTracking().Where(m => m.AccountId == accountId && m.UserId == memberId)
            .Select(m => new Caps(m.MaxDeployments, m.MaxCpus, m.MaxGpus)).FirstOrDefaultAsync(ct);
        if (set is null)
        {
            return Error.NotFound("Member");
        }

        return new MemberLimitsResponse(accountId, memberId, set.Deployments, set.Cpus, set.Gpus,
            Describe(set, await UsageAsync(memberId, accountId, null, ct)),
            Describe(await PlatformCapsAsync(memberId, ct), await UsageAsync(memberId, null, null, ct)));
    }

    private async Task<Caps> PlatformCapsAsync(Guid userId, CancellationToken ct)
    {
        var set = await db.Users.AsNoTracking().Where(u => u.Id == userId)
            .Select(u => new Caps(u.MaxDeployments, u.MaxCpus, u.MaxGpus)).FirstOrDefaultAsync(ct);
        return new Caps(set?.Deployments ?? Defaults.MaxDeployments, set?.Cpus ?? Defaults.MaxCpus, set?.Gpus ?? Defaults.MaxGpus);
    }

    private async Task<Usage> UsageAsync(Guid userId, Guid? accountId, Guid? excluding, CancellationToken ct)
    {
        var wanted = db.Deployments.Where(d => d.OwnerUserId == userId && d.Desired == DesiredState.Running && d.Observed != ObservedState.Deleted);
        if (accountId is { } a)
        {
            wanted = wanted.Where(d => d.AccountId == a);
        }

        if (excluding is { } x)
        {
            wanted = wanted.Where(d => d.Id != x);
        }

        var sums = await wanted.GroupBy(_ => 1).Select(g => new Usage(g.Count(), g.Sum(d => d.Cpus), g.Sum(d => d.Gpus))).FirstOrDefaultAsync(ct);
        return sums ?? new Usage(0, 0, 0);
    }

    private static (string? Field, string Message)? Exceeds(Caps caps, Usage used, double cpus, int gpus, string where)
    {
        if (caps.Deployments is { } maxDeployments && used.Deployments + 1 > maxDeployments)
        {
            return (null, $"You already run {used.Deployments} of your {maxDeployments} allowed deployments{where}.");
        }

        if (gpus > 0 && caps.Gpus is { } maxGpus && used.Gpus + gpus > maxGpus)
        {
            return ("gpus", $"This needs {Count(gpus, "GPU")}; you use {used.Gpus} of your {maxGpus}{where}.");
        }

        if (caps.Cpus is { } maxCpus && used.Cpus + cpus > maxCpus + 1e-9)
        {
            return ("cpus", $"This needs {Count(cpus, "CPU")}; you use {Number(used.Cpus)} of your {Number(maxCpus)}{where}.");
        }

        return null;
    }

    private static Error? Validate(UpdateLimitsRequest request, Caps? ceiling)
    {
        var errors = new FieldErrors();
        if (request.MaxDeployments is < 0)
        {
            errors.Add("maxDeployments", "A limit is zero or more; leave it empty for no limit of your own.");
        }

        if (request.MaxCpus is { } cpus && (!double.IsFinite(cpus) || cpus < 0))
        {
            errors.Add("maxCpus", "A limit is zero or more; leave it empty for no limit of your own.");
        }

        if (request.MaxGpus is < 0)
        {
            errors.Add("maxGpus", "A limit is zero or more; leave it empty for no limit of your own.");
        }

        if (ceiling is not null)
        {
            if (request.MaxDeployments > ceiling.Deployments)
            {
                errors.Add("maxDeployments", $"The platform allows this member at most {ceiling.Deployments} deployments; an account limit cannot be higher.");
            }

            if (request.MaxCpus > ceiling.Cpus)
            {
                errors.Add("maxCpus", $"The platform allows this member at most {Count(ceiling.Cpus!.Value, "CPU")}; an account limit cannot be higher.");
            }

            if (request.MaxGpus > ceiling.Gpus)
            {
                errors.Add("maxGpus", $"The platform allows this member at most {Count(ceiling.Gpus!.Value, "GPU")}; an account limit cannot be higher.");
            }
        }

        return errors.Any ? errors.ToError() : null;
    }

    private static LimitsResponse Describe(Caps caps, Usage used) =>
        new(new LimitUsage(caps.Deployments, used.Deployments), new LimitUsage(caps.Cpus, used.Cpus), new LimitUsage(caps.Gpus, used.Gpus));

    private static string Number(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);

    private static string Count(double value, string unit) => $"{Number(value)} {unit}{(value == 1 ? "" : "s")}";
}
