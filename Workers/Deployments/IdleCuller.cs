using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Catalog;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Notifications;
using Platform.Core.Persistence;

namespace Platform.Workers.Deployments;

/// <summary>
/// Stops IDEs nobody uses, so they do not hold CPUs and GPUs for nothing. Every <see cref="IdleCullingOptions.CheckInterval"/>
/// it looks at each running Jupyter and VS Code deployment of an account with culling on. The last use is the latest
/// of: its start, a request through the proxy (<see cref="Deployment.LastActivityAt"/>, written by Web), and what the
/// IDE reports (<see cref="IdeActivityProbe"/>); a busy kernel, or a busy GPU when it holds GPUs, is use now. Idle for
/// the account's time less the warning lead, its owner gets one notification; idle for the whole time, and at least
/// the lead after that warning, it is stopped through <see cref="DeploymentService.StopForPlatformAsync"/> (desire
/// Stopped: the reconciler stops it and keeps the workspace), and the owner is told. Use after the warning clears it.
/// Never deletes. Several Workers may run it: the warning and the stop are compare-and-set, so each happens once.
/// An IDE that cannot be asked is left alone that round: culling must not stop work it cannot see.
/// </summary>
public sealed class IdleCuller(
    IServiceScopeFactory scopes,
    IdeActivityProbe probe,
    GpuUtilization gpus,
    IOptions<IdleCullingOptions> options,
    TimeProvider clock,
    ILogger<IdleCuller> logger) : BackgroundService
{
    private sealed record Candidate(
        Guid Id, Guid OwnerUserId, Guid AccountId, string Title, ModuleService Service, string? Address, long Generation, int Gpus,
        DateTimeOffset? StartedAt, DateTimeOffset? LastActivityAt, DateTimeOffset? IdleWarnedAt, string? ServiceTokenProtected,
        int? CullMinutes, int? WarningMinutes);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CheckInterval, clock);
        do
        {
            try
            {
                await CheckAllAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Idle culling pass failed; the next one tries again");
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken ct)
    {
        try
        {
            return await timer.WaitForNextTickAsync(ct);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>One pass over the running IDEs.</summary>
    public async Task CheckAllAsync(CancellationToken ct)
    {
        List<Candidate> candidates;
        using (var scope = scopes.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            candidates = await db.Deployments.AsNoTracking()
                .Where(d => d.Desired == DesiredState.Running && d.Observed == ObservedState.Running && d.Service != ModuleService.Api)
                .Join(db.Accounts, d => d.AccountId, a => a.Id, (d, a) => new Candidate(d.Id, d.OwnerUserId, d.AccountId, d.Title, d.Service,
                    d.Address, d.Generation, d.Gpus, d.StartedAt, d.LastActivityAt, d.IdleWarnedAt, d.ServiceTokenProtected,
                    a.IdleCullMinutes, a.IdleWarningMinutes))
                .ToListAsync(ct);
        }

        double? gpuPercent = candidates.Any(c => c.Gpus > 0) ? await gpus.BusiestPercentAsync(ct) : null;
        foreach (var candidate in candidates)
        {
            try
            {
                await CheckAsync(candidate, gpuPercent, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Idle check of deployment {DeploymentId} failed", candidate.Id);
            }
        }
    }

    private async Task CheckAsync(Candidate d, double? gpuPercent, CancellationToken ct)
    {
        var settings = options.Value;
        var (cullMinutes, warningMinutes) = IdleSettingsService.Effective(d.CullMinutes, d.WarningMinutes, settings);
        if (cullMinutes <= 0 || d.Address is null)
        {
            return;
        }

        using var scope = scopes.CreateScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<PlatformDbContext>();
        var token = d.ServiceTokenProtected is null ? null : services.GetRequiredService<WorkloadSpecs>().ServiceTokenOf(new Deployment { ServiceTokenProtected = d.ServiceTokenProtected });
        var report = await probe.AskAsync(d.Service, d.Address, WorkloadSpec.BaseUrlFor(d.Id), token, ct);
        if (report is null)
        {
            logger.LogInformation("Deployment {DeploymentId}: its IDE did not say how it is used; not culled this round", d.Id);
            return;
        }

        var now = clock.GetUtcNow();
        var gpuBusy = d.Gpus > 0 && gpuPercent > settings.GpuIdlePercent;
        var last = Latest(d.StartedAt, d.LastActivityAt, report.LastActivity is { } reported && reported < now ? reported : null);
        if (report.Busy || gpuBusy)
        {
            last = now;
        }

        if (last > (d.LastActivityAt ?? DateTimeOffset.MinValue))
        {
            await db.Deployments.Where(x => x.Id == d.Id && (x.LastActivityAt == null || x.LastActivityAt < last))
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastActivityAt, last), ct);
        }

        // A warning from before this start, or followed by use, no longer stands.
        var warnedAt = d.IdleWarnedAt;
        if (warnedAt is { } w && (w < d.StartedAt || last > w))
        {
            await db.Deployments.Where(x => x.Id == d.Id && x.IdleWarnedAt == w).ExecuteUpdateAsync(s => s.SetProperty(x => x.IdleWarnedAt, (DateTimeOffset?)null), ct);
            warnedAt = null;
        }

        var minute = settings.Minute;
        var notifications = services.GetRequiredService<NotificationService>();
        var what = d.Service == ModuleService.Jupyter ? "notebook" : "editor";
        var stopAt = last + cullMinutes * minute;
        if (warningMinutes > 0 && warnedAt is null && now >= stopAt - warningMinutes * minute)
        {
            var warned = await db.Deployments.Where(x => x.Id == d.Id && x.IdleWarnedAt == null && x.Generation == d.Generation)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.IdleWarnedAt, now), ct);
            if (warned == 1)
            {
                logger.LogInformation("Deployment {DeploymentId} idle since {Last}: owner warned ({Detail})", d.Id, last, report.Detail);
                await notifications.AddAsync(d.OwnerUserId, "deployment.idle-warning", $"'{d.Title}' will be stopped soon",
                    $"Your {what} '{d.Title}' will be stopped in {warningMinutes} min for inactivity; open it to keep it.",
                    WorkloadSpec.BaseUrlFor(d.Id), d.AccountId, ct);
            }

            return;
        }

        // The whole idle time has passed, and so has the lead promised in the warning (if Workers were down meanwhile).
        if (now < stopAt || warningMinutes > 0 && (warnedAt is null || now < warnedAt.Value + warningMinutes * minute))
        {
            return;
        }

        var deployments = services.GetRequiredService<DeploymentService>();
        if (await deployments.StopForPlatformAsync(d.Id, d.Generation, $"Stopped after {cullMinutes} min idle", ct))
        {
            logger.LogInformation("Deployment {DeploymentId} stopped after {Minutes} min idle", d.Id, cullMinutes);
            await notifications.AddAsync(d.OwnerUserId, "deployment.idle-stopped", $"'{d.Title}' was stopped",
                $"Your {what} '{d.Title}' was stopped after {cullMinutes} min of inactivity. Its workspace is kept: start it again when you need it.",
                $"/Deployments/{d.Id}", d.AccountId, ct);
        }
    }

    private static DateTimeOffset Latest(params DateTimeOffset?[] times) => times.Where(t => t is not null).Select(t => t!.Value).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
}
