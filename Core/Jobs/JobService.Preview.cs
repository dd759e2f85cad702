using System.Globalization;
using Platform.Core.Common;
using Platform.Core.Jobs.Scheduling;

namespace Platform.Core.Jobs;

/// <summary>What the scheduler would decide for a job not yet submitted.</summary>
public sealed partial class JobService
{
    /// <summary>
    /// Validates the request as submit does (the same field errors), then runs the scheduler's decision over the live
    /// snapshot with the job added as if submitted now: "Would start now on node X", "Would wait: … — position 3, about
    /// 14:20 UTC", or never. Nothing is written.
    /// </summary>
    public async Task<Result<JobPreviewResponse>> PreviewAsync(Guid userId, SubmitJobRequest request, CancellationToken ct = default)
    {
        var validated = await ValidateAsync(userId, request, ct);
        if (!validated.IsSuccess)
        {
            return validated.Error!;
        }

        var (job, replicas) = validated.Value!;
        var input = await SnapshotReader.For(db, backends, clock).ReadAsync(withQueued: true, ct, (job.AccountId, userId));
        var expected = job.TimeLimitMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : (TimeSpan?)null;
        var hypothetical = new QueuedJob(job.Id, job.AccountId, SnapshotReader.MemberKey(job.AccountId, userId), job.Priority, clock.GetUtcNow(),
            replicas.Select(r => new ReplicaDemand(r.Role == ReplicaRole.Trainer ? "trainer" : "pserver", r.Index, r.Cpus, r.Gpus, r.MemoryMiB)).ToList(),
            expected);
        var snapshot = input.Snapshot with { Queued = [.. input.Snapshot.Queued, hypothetical] };
        var decision = SchedulingPass.Decide(snapshot).Single(d => d.JobId == job.Id);
        return Describe(decision);
    }

    private static JobPreviewResponse Describe(JobDecision d)
    {
        if (d.Start)
        {
            var nodes = d.Placements.Select(p => p.Node).Distinct(StringComparer.Ordinal).ToList();
            return new JobPreviewResponse(true, false, $"Would start now on node{(nodes.Count == 1 ? "" : "s")} {string.Join(", ", nodes)}", null, null, d.EstimatedStart);
        }

        var reason = d.Reason ?? "waiting";
        if (d.Never)
        {
            return new JobPreviewResponse(false, true, $"Would never start: {reason}", reason, null, null);
        }

        var wait = reason.StartsWith("waiting: ", StringComparison.Ordinal) ? "Would wait: " + reason["waiting: ".Length..]
            : reason.StartsWith("waiting ", StringComparison.Ordinal) ? "Would wait " + reason["waiting ".Length..]
            : "Would wait: " + reason;
        var when = d.EstimatedStart is { } at ? $", about {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)}" : ", start time unknown";
        return new JobPreviewResponse(false, false, $"{wait} — position {d.Position}{when}", reason, d.Position, d.EstimatedStart);
    }
}
