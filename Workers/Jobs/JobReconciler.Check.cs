using System.Diagnostics;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;

namespace Platform.Workers.Jobs;

public sealed partial class JobReconciler
{
    /// <summary>
    /// A running job's check: the time limit, then each running replica polled and its end recorded, then the outcome.
    /// A trainer that fails (or vanishes) fails the job with its last log lines; a parameter server that ends while
    /// trainers still run fails it too; all trainers exiting 0 succeeds it (parameter servers are then stopped and the
    /// outputs kept). Otherwise the next check is due after the poll interval.
    /// </summary>
    private async Task CheckAsync(Step step, IBatchBackend backend, CancellationToken ct)
    {
        var job = step.Job;
        var now = step.Now;
        var limit = job.TimeLimitMinutes ?? options.DefaultTimeLimitMinutes;
        var deadline = (job.StartedAt ?? now).AddMinutes(limit);
        if (now >= deadline)
        {
            await StopAllAsync(step, backend, $"stopped: the time limit of {limit} minutes was reached", ct);
            await step.FailAsync($"time limit of {limit} minutes reached");
            return;
        }

        foreach (var replica in step.Replicas.Where(r => r.Observed == ReplicaObserved.Running))
        {
            var status = await backend.PollAsync(job.Id, replica.Label, replica.BackendState, ct);
            if (status.Status == WorkloadStatus.Running)
            {
                continue;
            }

            var at = step.Now;
            await step.ReplicaAsync(replica, r =>
            {
                r.FinishedAt = at;
                r.ExitCode = status.ExitCode;
                r.Observed = status is { Status: WorkloadStatus.Exited, ExitCode: 0 } ? ReplicaObserved.Succeeded : ReplicaObserved.Failed;
                r.Reason = r.Observed == ReplicaObserved.Succeeded ? null
                    : status.Status == WorkloadStatus.NotFound ? $"vanished ({status.Reason})"
                    : status.Reason ?? (status.ExitCode is { } code ? $"exited with code {code}" : "ended");
            });
        }

        var trainers = step.Replicas.Where(r => r.Role == ReplicaRole.Trainer).ToList();
        var servers = step.Replicas.Where(r => r.Role == ReplicaRole.ParameterServer).ToList();
        if (trainers.FirstOrDefault(r => r.Observed == ReplicaObserved.Failed) is { } failed)
        {
            await FailOnReplicaAsync(step, backend, failed, early: false, ct);
        }
        else if (servers.FirstOrDefault(r => r.Observed is ReplicaObserved.Succeeded or ReplicaObserved.Failed) is { } server
                 && trainers.Any(r => r.Observed == ReplicaObserved.Running))
        {
            await FailOnReplicaAsync(step, backend, server, early: true, ct);
        }
        else if (trainers.All(r => r.Observed == ReplicaObserved.Succeeded))
        {
            await SucceedAsync(step, backend, trainers.Count, ct);
        }
        else
        {
            var next = step.Now + options.PollInterval;
            var due = next < deadline ? next : deadline;
            await step.UpdateAsync(s => s.SetProperty(x => x.NextCheckAt, due));
        }
    }

    private async Task FailOnReplicaAsync(Step step, IBatchBackend backend, JobReplica replica, bool early, CancellationToken ct)
    {
        var tail = await backend.LogTailAsync(step.Job.Id, replica.Label, replica.BackendState, options.TailLines, ct);
        // A container engine may report the exit before its log holds the last lines (Podman's conmon, seconds late on
        // a loaded machine): a replica that failed silent so far is given the backend's log lag to show them.
        var waiting = tail.Length == 0 ? Stopwatch.StartNew() : null;
        while (tail.Length == 0 && waiting!.Elapsed < backend.LogLag)
        {
            await Task.Delay(250, ct);
            tail = await backend.LogTailAsync(step.Job.Id, replica.Label, replica.BackendState, options.TailLines, ct);
        }

        if (waiting is not null && tail.Length > 0)
        {
            logger.LogInformation("The log of job {JobId}'s {Replica} showed its last lines {Ms} ms after the exit was seen",
                step.Job.Id, replica.Label, waiting.ElapsedMilliseconds);
        }

        await StopAllAsync(step, backend, $"stopped: {replica.Label} {(early ? "ended early" : "failed")}", CancellationToken.None);
        var what = early ? $"{replica.Label} ended while trainers were still running: {replica.Reason ?? $"exited with code {replica.ExitCode}"}" : $"{replica.Label} {replica.Reason}";
        var hint = LimitHint(tail, replica);
        await step.FailAsync(what + hint + (tail.Length > 0 ? $". Last log lines:\n{tail}" : ". It wrote no output."));
    }

    /// <summary>Says which limit a failure's log points at: the memory cap (prlimit's address space, a container's cgroup) or the process cap.</summary>
    private static string LimitHint(string tail, JobReplica replica) =>
        tail.Contains("MemoryError", StringComparison.Ordinal) || tail.Contains("Cannot allocate memory", StringComparison.Ordinal)
            || tail.Contains("std::bad_alloc", StringComparison.Ordinal) || tail.Contains("out of memory", StringComparison.OrdinalIgnoreCase)
            ? $" (it ran out of its memory limit of {replica.MemoryMiB} MiB)"
            : tail.Contains("Resource temporarily unavailable", StringComparison.Ordinal) || tail.Contains("fork: retry", StringComparison.Ordinal)
                ? " (it reached the limit on processes: a fork without end is cut off)"
                : "";

    private async Task SucceedAsync(Step step, IBatchBackend backend, int trainers, CancellationToken ct)
    {
        var job = step.Job;
        await StopAllAsync(step, backend, "stopped: the trainers finished", ct);
        int? version = null;
        if (job.OutputModel is not null)
        {
            try
            {
                var outputs = step.Services.GetRequiredService<JobOutputs>();
                (version, var message) = await outputs.KeepAsync(job, backend.OutputFolderOf(job.Id), step.RenewAsync, ct);
                await step.EventsAsync([message]);
            }
            catch (OutputException ex)
            {
                await step.FailAsync($"the trainers finished but the outputs could not be kept as model {job.OutputModel}: {ex.Message}");
                return;
            }
        }

        var now = step.Now;
        var summary = $"all {trainers} trainer{(trainers == 1 ? "" : "s")} exited with code 0" +
            (version is { } v ? $"; outputs are version {v} of model {job.OutputModel}" : "");
        await step.MoveAndNotifyOwnerAsync(JobObserved.Succeeded, s => s
                .SetProperty(x => x.FinishedAt, now)
                .SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null)
                .SetProperty(x => x.TokenHash, (byte[]?)null)
                .SetProperty(x => x.OutputModelVersion, x => version ?? x.OutputModelVersion), $"Succeeded: {summary}", null,
            "job.succeeded", $"Job {job.Name} succeeded", char.ToUpperInvariant(summary[0]) + summary[1..] + ".");
    }

    /// <summary>
    /// Desired stopped: a queued job leaves the queue (Stopped at once); a starting or running one goes Stopping, has
    /// every replica stopped, then Stopped. A worker dying in between finds it Stopping and stops again (idempotent).
    /// </summary>
    private async Task StopAsync(Step step, IBatchBackend backend, CancellationToken ct)
    {
        var job = step.Job;
        var now = step.Now;
        if (job.Observed == JobObserved.Queued)
        {
            foreach (var replica in step.Replicas.Where(r => r.Observed == ReplicaObserved.Pending))
            {
                await step.ReplicaAsync(replica, r => r.Observed = ReplicaObserved.Stopped);
            }

            await step.MoveAsync(JobObserved.Stopped, s => s
                    .SetProperty(x => x.FinishedAt, now)
                    .SetProperty(x => x.QueueReason, (string?)null)
                    .SetProperty(x => x.QueuePosition, (int?)null)
                    .SetProperty(x => x.EstimatedStartAt, (DateTimeOffset?)null)
                    .SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null),
                "Stopped: it left the queue before starting");
            return;
        }

        if (JobService.IsFinished(job.Observed))
        {
            return;
        }

        if (job.Observed != JobObserved.Stopping && !await step.MoveAsync(JobObserved.Stopping, s => s, "Stopping: ending the replicas"))
        {
            return;
        }

        await StopAllAsync(step, backend, "stopped on request", ct);
        var at = step.Now;
        await step.MoveAsync(JobObserved.Stopped, s => s
                .SetProperty(x => x.FinishedAt, at)
                .SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null)
                .SetProperty(x => x.TokenHash, (byte[]?)null),
            "Stopped: every replica has ended");
    }

    /// <summary>
    /// Stops every replica not yet ended, side by side, and records it stopped. Pending ones are stopped too: a worker
    /// that died right after launching one had no time to record it, and the backend finds it by name.
    /// </summary>
    private static async Task StopAllAsync(Step step, IBatchBackend? backend, string reason, CancellationToken ct)
    {
        var live = step.Replicas.Where(r => r.Observed is ReplicaObserved.Pending or ReplicaObserved.Starting or ReplicaObserved.Running).ToList();
        if (backend is not null)
        {
            // Ended replicas too: what they started and left behind (a daemonized child) ends with the job.
            await Task.WhenAll(step.Replicas.Where(r => r.BackendState is not null || live.Contains(r))
                .Select(r => backend.StopAsync(step.Job.Id, r.Label, r.BackendState, ct)));
        }

        var now = step.Now;
        foreach (var replica in live)
        {
            await step.ReplicaAsync(replica, r =>
            {
                r.Observed = ReplicaObserved.Stopped;
                r.FinishedAt = r.StartedAt is null ? r.FinishedAt : now;
                r.Reason = reason;
            });
        }
    }
}
