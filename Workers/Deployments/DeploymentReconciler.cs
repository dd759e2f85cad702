using System.Net;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Persistence;

using Platform.Workers.Reconciliation;

namespace Platform.Workers.Deployments;

/// <summary>
/// Makes deployments what their owners want. Level-triggered: it claims rows whose desire is newer than what was
/// observed (<c>ObservedGeneration &lt; Generation</c>) or whose check is due, under a lease taken with
/// <c>FOR UPDATE SKIP LOCKED</c> so several workers share the work, acts through the backend and records what it saw
/// with compare-and-set. <c>LISTEN deployments</c> wakes it at once; a resync every few seconds catches the rest.
/// Killed at any instant it loses nothing: the generation it was acting on stays unobserved, so the next worker
/// (after the lease runs out, or at once after a clean shutdown, which gives leases back) does it again, and the
/// backend adopts a workload it finds running instead of starting it twice. A workload that dies is recorded as
/// failed and left alone (no restart loop) until its owner starts it again.
/// </summary>
public sealed partial class DeploymentReconciler(
    IServiceScopeFactory scopes,
    ComputeBackends backends,
    IHttpClientFactory httpClients,
    DeploymentReconcilerOptions options,
    TimeProvider clock,
    ILogger<DeploymentReconciler> logger) : LeasedReconciler
{
    private TimeProvider Clock => clock;

    protected override IServiceScopeFactory Scopes => scopes;

    protected override ILogger Logger => logger;

    protected override string Channel => DeploymentService.Channel;

    protected override string Noun => "deployment";

    protected override int MaxInFlight => options.MaxInFlight;

    protected override TimeSpan ResyncInterval => options.ResyncInterval;

    /// <summary>This process's name on the leases it holds.</summary>
    public string InstanceId { get; } = $"{Environment.ProcessId}:{Guid.NewGuid():N}:{Environment.MachineName}" is var id && id.Length > 100 ? id[..100] : id;

    protected override async Task<List<Guid>> ClaimAsync(int limit, Guid[] busy, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var now = clock.GetUtcNow();
        var until = now + options.Lease;
        var deleted = nameof(ObservedState.Deleted);
        // Rows this process is still acting on are left out even when their lease ran short: never two actors on one row.
        return await db.Database.SqlQuery<Guid>($"""
            UPDATE "Deployments" SET "LeaseOwner" = {InstanceId}, "LeaseUntil" = {until}
            WHERE "Id" IN (
                SELECT "Id" FROM "Deployments"
                WHERE "Observed" <> {deleted} AND ("LeaseUntil" IS NULL OR "LeaseUntil" < {now})
                  AND ("ObservedGeneration" < "Generation" OR "NextCheckAt" <= {now})
                  AND NOT ("Id" = ANY({busy}))
                ORDER BY "UpdatedAt" LIMIT {limit}
                FOR UPDATE SKIP LOCKED)
            RETURNING "Id" AS "Value"
            """).ToListAsync(ct);
    }

    protected override async Task ReconcileAsync(Guid id, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        try
        {
            var d = await db.Deployments.AsNoTracking().SingleOrDefaultAsync(x => x.Id == id && x.LeaseOwner == InstanceId, ct);
            if (d is null)
            {
                return;
            }

            var step = new Step(db, d, this);
            try
            {
                if (backends.For(d) is not { } backend)
                {
                    await step.FailAsync(d.Observed, $"the backend '{d.Backend}' this deployment runs on is not available in this build");
                    return;
                }

                await (d.Desired switch
                {
                    DesiredState.Running => RunAsync(step, backend, scope.ServiceProvider, ct),
                    DesiredState.Stopped => StopAsync(step, backend, ct),
                    _ => DeleteAsync(step, backend, ct),
                });
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Recorded, not retried: a deployment that cannot be reconciled waits for its owner, not in a hot loop.
                logger.LogError(ex, "Reconciling deployment {DeploymentId} failed", id);
                await step.FailAsync(d.Observed, $"internal error: {ex.Message}");
            }
        }
        finally
        {
            await db.Deployments.Where(x => x.Id == id && x.LeaseOwner == InstanceId)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null), CancellationToken.None);
        }
    }

    private async Task RunAsync(Step step, IComputeBackend backend, IServiceProvider services, CancellationToken ct)
    {
        var d = step.Deployment;
        if (d.ObservedGeneration == d.Generation && d.Observed == ObservedState.Running)
        {
            await CheckRunningAsync(step, backend, ct);
            return;
        }

        if (d.ObservedGeneration == d.Generation && d.Observed == ObservedState.Failed)
        {
            await step.RecordAsync(ObservedState.Failed, ObservedState.Failed, s => s.SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null));
            return;
        }

        var what = d.Service switch
        {
            ModuleService.Jupyter => "launching Jupyter",
            ModuleService.VsCode => "launching VS Code (code-server)",
            _ => $"launching the API of '{d.Module}'",
        };
        if (!await step.BeginAsync(ObservedState.Starting, d.Observed == ObservedState.Starting ? $"Starting: {what} (resumed)" : $"Starting: {what}"))
        {
            return;
        }

        var token = WorkloadKeys.New(d.Id);
        var specs = services.GetRequiredService<WorkloadSpecs>();
        var serviceToken = specs.NewServiceToken();
        var progress = new ListProgress();
        WorkloadSpec spec;
        BackendStart started;
        try
        {
            // Datasets first: one that cannot be read or fetched fails the start before anything runs.
            var mounts = await services.GetRequiredService<DatasetMounts>().PrepareAsync(d.OwnerUserId, d.AccountId, d.Datasets, progress, ct);
            spec = specs.Build(d, token, serviceToken.Token, mounts);
            started = await backend.StartAsync(spec, d.BackendState, progress, ct);
        }
        catch (WorkloadException ex)
        {
            await step.EventsAsync(ObservedState.Starting, progress.Messages);
            await step.FailAsync(ObservedState.Starting, ex.Message);
            return;
        }

        // Recorded before waiting for readiness: a worker killed now leaves the next one what it needs to adopt.
        var tokenHash = Secrets.Hash(token);
        await step.Db.Deployments.Where(x => x.Id == d.Id && x.LeaseOwner == InstanceId).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.Backend, backend.Name)
            .SetProperty(x => x.BackendState, started.State)
            .SetProperty(x => x.Address, started.Address)
            .SetProperty(x => x.TokenHash, x => started.Launched ? tokenHash : x.TokenHash)
            .SetProperty(x => x.ServiceTokenProtected, x => started.Launched ? serviceToken.Protected : x.ServiceTokenProtected), CancellationToken.None);
        await step.EventsAsync(ObservedState.Starting, progress.Messages);

        var failure = await WaitReadyAsync(backend, d.Id, started, spec.ReadinessPath, ct);
        if (failure is not null)
        {
            await backend.StopAsync(d.Id, started.State, CancellationToken.None);
            await step.FailAsync(ObservedState.Starting, failure);
            return;
        }

        var now = clock.GetUtcNow();
        await step.RecordAsync(ObservedState.Starting, ObservedState.Running, s => s
                .SetProperty(x => x.StartedAt, now)
                .SetProperty(x => x.NextCheckAt, now + options.PollInterval),
            $"Running: {options.PublicUrl.TrimEnd('/')}{spec.BaseUrl} (listening on {started.Address})");
    }

    /// <summary>Null once the workload answers below 500 at its readiness path; otherwise why it never will.</summary>
    private async Task<string?> WaitReadyAsync(IComputeBackend backend, Guid id, BackendStart started, string path, CancellationToken ct)
    {
        using var client = httpClients.CreateClient();
        client.Timeout = TimeSpan.FromSeconds(5);
        var deadline = clock.GetUtcNow() + options.ReadinessTimeout;
        while (clock.GetUtcNow() < deadline)
        {
            try
            {
                using var response = await client.GetAsync(started.Address + path, ct);
                if ((int)response.StatusCode < 500)
                {
                    return null;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
            {
                // Not listening yet.
            }

            var status = await backend.PollAsync(id, started.State, ct);
            if (status.Status != WorkloadStatus.Running)
            {
                return $"exited before answering at {path}. {status.Reason}".Trim();
            }

            await Task.Delay(options.ReadinessInterval, ct);
        }

        return $"did not answer at {path} within {options.ReadinessTimeout.TotalSeconds:0} s. {await backend.LogTailAsync(id, ct)}".Trim();
    }

    private async Task CheckRunningAsync(Step step, IComputeBackend backend, CancellationToken ct)
    {
        var d = step.Deployment;
        var status = await backend.PollAsync(d.Id, d.BackendState, ct);
        if (status.Status == WorkloadStatus.Running)
        {
            var next = clock.GetUtcNow() + options.PollInterval;
            await step.RecordAsync(ObservedState.Running, ObservedState.Running, s => s.SetProperty(x => x.NextCheckAt, next));
            return;
        }

        var reason = status.Status == WorkloadStatus.NotFound ? $"the workload is gone ({status.Reason})"
            : status.ExitCode is { } code ? $"exited with code {code}. {status.Reason}" : status.Reason ?? "exited";
        await step.FailAsync(ObservedState.Running, reason);
    }

    private async Task StopAsync(Step step, IComputeBackend backend, CancellationToken ct)
    {
        var d = step.Deployment;
        if (d.Observed == ObservedState.Stopped)
        {
            await step.RecordAsync(ObservedState.Stopped, ObservedState.Stopped, s => s.SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null));
            return;
        }

        if (!await step.BeginAsync(ObservedState.Stopping, "Stopping: ending the processes; the workspace is kept"))
        {
            return;
        }

        await backend.StopAsync(d.Id, d.BackendState, ct);
        var now = clock.GetUtcNow();
        await step.RecordAsync(ObservedState.Stopping, ObservedState.Stopped, s => s
                .SetProperty(x => x.StoppedAt, now)
                .SetProperty(x => x.Address, (string?)null)
                .SetProperty(x => x.TokenHash, (byte[]?)null)
                .SetProperty(x => x.ServiceTokenProtected, (string?)null)
                .SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null),
            "Stopped: the workspace is kept for the next start");
    }

    private async Task DeleteAsync(Step step, IComputeBackend backend, CancellationToken ct)
    {
        var d = step.Deployment;
        if (!await step.BeginAsync(ObservedState.Stopping, "Deleting: ending the processes and removing the workspace"))
        {
            return;
        }

        await backend.DeleteAsync(d.Id, d.BackendState, ct);
        var now = clock.GetUtcNow();
        await step.RecordAsync(ObservedState.Stopping, ObservedState.Deleted, s => s
                .SetProperty(x => x.StoppedAt, now)
                .SetProperty(x => x.Address, (string?)null)
                .SetProperty(x => x.BackendState, (string?)null)
                .SetProperty(x => x.TokenHash, (byte[]?)null)
                .SetProperty(x => x.ServiceTokenProtected, (string?)null)
                .SetProperty(x => x.PasswordProtected, "")
                .SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null),
            "Deleted: the workload and its workspace are removed");
    }

    protected override Task ReleaseLeasesAsync(PlatformDbContext db) =>
        db.Deployments.Where(x => x.LeaseOwner == InstanceId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.LeaseOwner, (string?)null).SetProperty(x => x.LeaseUntil, (DateTimeOffset?)null));
}
