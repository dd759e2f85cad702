using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;

namespace Platform.Core.Jobs;

/// <summary>
/// Jobs as their owners see them: submit (a queued job with its replicas, an event, and <c>NOTIFY jobs</c> so the
/// scheduler decides at once), stop, clone with edits (resubmit is a clone without edits). Only Workers change what is
/// observed. A job is its owner's; masters of its account may read and stop it. Anyone else gets not found.
/// </summary>
public sealed partial class JobService(
    PlatformDbContext db, AccountService accounts, IModuleCatalog catalog, BatchBackends backends, DatasetMounts mounts, TimeProvider clock)
{
    public const string Channel = "jobs";

    public async Task<Result<JobResponse>> SubmitAsync(Guid userId, SubmitJobRequest request, CancellationToken ct = default) =>
        await SubmitAsync(userId, request, cloneOf: null, ct);

    private async Task<Result<JobResponse>> SubmitAsync(Guid userId, SubmitJobRequest request, Guid? cloneOf, CancellationToken ct)
    {
        var validated = await ValidateAsync(userId, request, ct);
        if (!validated.IsSuccess)
        {
            return validated.Error!;
        }

        var (job, replicas) = validated.Value!;
        job.CloneOf = cloneOf;
        db.Jobs.Add(job);
        db.JobReplicas.AddRange(replicas);
        db.JobEvents.Add(NewEvent(job.Id, "Queued", cloneOf is null
            ? $"Submitted by {await NameOfAsync(userId, ct)}: {Describe(replicas)}"
            : $"Submitted by {await NameOfAsync(userId, ct)} as a clone of {cloneOf}: {Describe(replicas)}"));
        await db.SaveChangesAsync(ct);
        await NotifyAsync(job.Id, ct);
        return ToResponse(job, replicas, "owner");
    }

    public async Task<Result<JobResponse>> GetAsync(Guid userId, Guid jobId, CancellationToken ct = default)
    {
        if (await FindAsync(userId, jobId, ct) is not { } found)
        {
            return NotFound();
        }

        var replicas = await db.JobReplicas.AsNoTracking().Where(r => r.JobId == jobId).ToListAsync(ct);
        return ToResponse(found.Job, replicas, found.Level, withReplicas: true);
    }

    public async Task<Result<PagedResponse<JobEventResponse>>> EventsAsync(Guid userId, Guid jobId, int? page, int? pageSize, CancellationToken ct = default)
    {
        if (await FindAsync(userId, jobId, ct) is null)
        {
            return NotFound();
        }

        var (p, size) = Paging.Normalize(page, pageSize);
        var query = db.JobEvents.Where(e => e.JobId == jobId);
        var total = await query.CountAsync(ct);
        var items = await query.OrderBy(e => e.Id).Skip((p - 1) * size).Take(size)
            .Select(e => new JobEventResponse(e.Id, e.At, e.State, e.Message)).ToListAsync(ct);
        return new PagedResponse<JobEventResponse>(items, total, p, size);
    }

    /// <summary>Wants the job stopped: a queued job leaves the queue, a running one has its replicas stopped by Workers.</summary>
    public async Task<Result<JobResponse>> StopAsync(Guid userId, Guid jobId, CancellationToken ct = default)
    {
        if (await FindAsync(userId, jobId, ct) is not { } found)
        {
            return NotFound();
        }

        var current = found.Job;
        if (current.Desired == JobDesired.Stopped || IsFinished(current.Observed))
        {
            return await GetAsync(userId, jobId, ct);
        }

        var now = clock.GetUtcNow();
        var updated = await db.Jobs
            .Where(j => j.Id == jobId && j.Generation == current.Generation && j.Desired == JobDesired.Running)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Desired, JobDesired.Stopped)
                .SetProperty(j => j.Generation, j => j.Generation + 1)
                .SetProperty(j => j.NextCheckAt, now)
                .SetProperty(j => j.UpdatedAt, now), ct);
        if (updated == 0)
        {
            return Error.Conflict("The job changed meanwhile; reload and try again.");
        }

        db.JobEvents.Add(NewEvent(jobId, current.Observed.ToString(), $"Stop requested by {await NameOfAsync(userId, ct)}"));
        await db.SaveChangesAsync(ct);
        await NotifyAsync(jobId, ct);
        return await GetAsync(userId, jobId, ct);
    }

    /// <summary>
    /// A new job from this one's spec with the edits given (none: a resubmission), owned by the caller, validated as any
    /// submission. Masters may clone a member's job: the clone is theirs.
    /// </summary>
    public async Task<Result<JobResponse>> CloneAsync(Guid userId, Guid jobId, CloneJobRequest? edits, CancellationToken ct = default)
    {
        if (await FindAsync(userId, jobId, ct) is not { } found)
        {
            return NotFound();
        }

        var original = found.Job;
        var replicas = await db.JobReplicas.AsNoTracking().Where(r => r.JobId == jobId).ToListAsync(ct);
        ReplicaGroupRequest? GroupOf(ReplicaRole role)
        {
            var group = replicas.Where(r => r.Role == role).ToList();
            return group.Count == 0 ? new ReplicaGroupRequest(0, null, null, null) : new ReplicaGroupRequest(group.Count, group[0].Cpus, group[0].Gpus, group[0].MemoryMiB);
        }

        var request = new SubmitJobRequest(
            original.AccountId,
            edits?.Name ?? original.Name,
            Wire(original.Type),
            original.Module,
            original.Image,
            edits?.Command ?? original.Command,
            edits?.Datasets ?? original.Datasets,
            original.Code,
            original.OutputModel,
            edits?.Options ?? OptionsOf(original),
            edits?.Trainers ?? GroupOf(ReplicaRole.Trainer),
            edits?.ParameterServers ?? GroupOf(ReplicaRole.ParameterServer),
            edits?.Priority ?? original.Priority,
            edits?.TimeLimitMinutes ?? original.TimeLimitMinutes);
        return await SubmitAsync(userId, request, original.Id, ct);
    }

    /// <summary>
    /// Every job with what the caller is to it: its owner (while still in its account) or a master of its account. A row
    /// where both are false is invisible to the caller.
    /// </summary>
    internal IQueryable<JobAccess> WithAccess(Guid userId) =>
        from j in db.Jobs
        select new JobAccess
        {
            Job = j,
            Owner = j.OwnerUserId == userId && db.Memberships.Any(m => m.AccountId == j.AccountId && m.UserId == userId),
            Master = db.Memberships.Any(m => m.AccountId == j.AccountId && m.UserId == userId && m.Role == AccountRole.Master),
        };

    internal async Task<JobAccess?> FindAsync(Guid userId, Guid jobId, CancellationToken ct) =>
        await WithAccess(userId).AsNoTracking().Where(r => r.Job.Id == jobId && (r.Owner || r.Master)).FirstOrDefaultAsync(ct);

    internal sealed class JobAccess
    {
        public required Job Job { get; init; }
        public bool Owner { get; init; }
        public bool Master { get; init; }

        /// <summary>On the wire: "owner", or "master" (a master of the account looking at a member's job).</summary>
        public string Level => Owner ? "owner" : "master";
    }

    /// <summary>The states a job ends in; also usable in queries (<c>Finished.Contains(j.Observed)</c>).</summary>
    public static readonly JobObserved[] Finished = [JobObserved.Succeeded, JobObserved.Failed, JobObserved.Stopped];

    public static bool IsFinished(JobObserved state) => Finished.Contains(state);

    private async Task NotifyAsync(Guid jobId, CancellationToken ct) =>
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({Channel}, {jobId.ToString()})", ct);

    private async Task<string> NameOfAsync(Guid userId, CancellationToken ct) =>
        await db.Users.Where(u => u.Id == userId).Select(u => u.DisplayName != "" ? u.DisplayName : u.Email).FirstOrDefaultAsync(ct) ?? "a user";

    internal JobEvent NewEvent(Guid jobId, string state, string message) =>
        new() { JobId = jobId, At = clock.GetUtcNow(), State = state, Message = message };

    private static Error NotFound() => Error.NotFound("Job");

    private static string Describe(IReadOnlyList<JobReplica> replicas)
    {
        var trainers = replicas.Where(r => r.Role == ReplicaRole.Trainer).ToList();
        var servers = replicas.Where(r => r.Role == ReplicaRole.ParameterServer).ToList();
        static string Each(JobReplica r) => $"{r.Cpus:0.##} CPU{(r.Gpus > 0 ? $", {r.Gpus} GPU" : "")}, {r.MemoryMiB} MiB";
        var text = $"{trainers.Count} trainer{(trainers.Count == 1 ? "" : "s")} ({Each(trainers[0])} each)";
        return servers.Count == 0 ? text : text + $", {servers.Count} parameter server{(servers.Count == 1 ? "" : "s")} ({Each(servers[0])} each)";
    }

    /// <summary>Enum values on the wire: lower case ("train", "queued", "parameterserver" is "pserver").</summary>
    public static string Wire<T>(T value) where T : struct, Enum =>
        value is ReplicaRole role ? (role == ReplicaRole.Trainer ? "trainer" : "pserver") : value.ToString().ToLowerInvariant();

    public static IReadOnlyDictionary<string, string> OptionsOf(Job job) =>
        JsonSerializer.Deserialize<Dictionary<string, string>>(job.Options) ?? [];

    public static JobReplicaResponse ToResponse(JobReplica r) => new(
        Wire(r.Role), r.Index, r.Label, r.Cpus, r.Gpus, r.MemoryMiB, r.Node, r.Port, Wire(r.Observed), r.ExitCode, r.Reason, r.StartedAt, r.FinishedAt);

    /// <summary>A job on the wire; <paramref name="replicas"/> give the totals (and the list, when <paramref name="withReplicas"/>).</summary>
    public static JobResponse ToResponse(Job j, IReadOnlyCollection<JobReplica> replicas, string access, bool withReplicas = false) => new(
        j.Id, j.AccountId, j.OwnerUserId, j.Name, Wire(j.Type), j.Module, j.Image, j.Command, OptionsOf(j), j.Datasets, j.Code, j.OutputModel,
        j.OutputModelVersion, j.Priority, j.TimeLimitMinutes, Wire(j.Desired), Wire(j.Observed), j.Reason, j.QueueReason, j.QueuePosition,
        j.EstimatedStartAt, j.Backend, j.SubmittedAt, j.StartedAt, j.FinishedAt, j.Progress, j.ProgressMessage, j.CloneOf,
        replicas.Count(r => r.Role == ReplicaRole.Trainer), replicas.Count(r => r.Role == ReplicaRole.ParameterServer),
        replicas.Sum(r => r.Cpus), replicas.Sum(r => r.Gpus), replicas.Sum(r => r.MemoryMiB), access,
        withReplicas ? replicas.OrderBy(r => r.Role).ThenBy(r => r.Index).Select(ToResponse).ToList() : null);
}
