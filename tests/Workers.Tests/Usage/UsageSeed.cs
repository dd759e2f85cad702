using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Deployments;
using Platform.Core.Jobs;
using Platform.Core.Persistence;

namespace Platform.Workers.Tests.Usage;

/// <summary>A clock the test sets: the accounting reads "now" from it, so hour boundaries are exact.</summary>
public sealed class SetClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}

/// <summary>Rows as the other parts write them: a user with an account, a job with replicas, a deployment.</summary>
public static class UsageSeed
{
    public static async Task<(Guid User, Guid Account)> UserAsync(PlatformDbContext db, string name)
    {
        var now = DateTimeOffset.UtcNow;
        var user = new PlatformUser { Id = Guid.CreateVersion7(), UserName = $"{name}-{Guid.NewGuid():N}@example.test", DisplayName = name, CreatedAt = now };
        user.Email = user.UserName;
        var account = new Account { Id = Guid.CreateVersion7(), Name = name, CreatedAt = now };
        account.Members.Add(new Membership { UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
        user.CurrentAccountId = account.Id;
        db.Users.Add(user);
        db.Accounts.Add(account);
        await db.SaveChangesAsync();
        return (user.Id, account.Id);
    }

    /// <summary>A job admitted at <paramref name="admittedAt"/> (the scheduler's event) and running, with the replicas given.</summary>
    public static async Task<Guid> RunningJobAsync(PlatformDbContext db, (Guid User, Guid Account) owner, DateTimeOffset admittedAt,
        params (ReplicaRole Role, double Cpus, int Gpus, int MemoryMiB, string? State)[] replicas)
    {
        var job = new Job
        {
            Id = Guid.CreateVersion7(), AccountId = owner.Account, OwnerUserId = owner.User, Name = "train-" + Guid.NewGuid().ToString("N")[..6],
            Command = ["sh"], Backend = "process", Observed = JobObserved.Running, Desired = JobDesired.Running,
            SubmittedAt = admittedAt.AddMinutes(-1), StartedAt = admittedAt.AddSeconds(30), UpdatedAt = admittedAt.AddSeconds(30),
        };
        db.Jobs.Add(job);
        var index = new Dictionary<ReplicaRole, int>();
        foreach (var (role, cpus, gpus, memory, state) in replicas)
        {
            var i = index.GetValueOrDefault(role);
            index[role] = i + 1;
            db.JobReplicas.Add(new JobReplica
            {
                JobId = job.Id, Role = role, Index = i, Cpus = cpus, Gpus = gpus, MemoryMiB = memory, Node = "node-a",
                Observed = ReplicaObserved.Running, BackendState = state, StartedAt = job.StartedAt,
            });
        }

        db.JobEvents.Add(new JobEvent { JobId = job.Id, At = admittedAt, State = "starting", Message = "Admitted: placed on node-a" });
        await db.SaveChangesAsync();
        return job.Id;
    }

    public static async Task<Guid> RunningDeploymentAsync(PlatformDbContext db, (Guid User, Guid Account) owner, DateTimeOffset startedAt, double cpus, int gpus, string? state = null)
    {
        var deployment = new Deployment
        {
            Id = Guid.CreateVersion7(), AccountId = owner.Account, OwnerUserId = owner.User, Module = "development", Title = "Notebook",
            Cpus = cpus, Gpus = gpus, MemoryMiB = 2048, DiskGiB = 1, Backend = "process", Desired = DesiredState.Running,
            Observed = ObservedState.Running, StartedAt = startedAt, CreatedAt = startedAt, UpdatedAt = startedAt, BackendState = state,
        };
        db.Deployments.Add(deployment);
        await db.SaveChangesAsync();
        return deployment.Id;
    }

    public static Task<List<UsageRecord>> RecordsAsync(PlatformDbContext db, Guid id) =>
        db.UsageRecords.AsNoTracking().Where(r => r.WorkloadId == id).OrderBy(r => r.Hour).ToListAsync();
}
