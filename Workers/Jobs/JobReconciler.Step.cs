using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Platform.Core.Jobs;
using Platform.Core.Metrics;
using Platform.Core.Notifications;
using Platform.Core.Persistence;

namespace Platform.Workers.Jobs;

public sealed partial class JobReconciler
{
    /// <summary>
    /// One claimed job: compare-and-set transitions of the job, replica writes, events and notifications, every write
    /// conditional on still holding the lease. The job and its replicas are the snapshot read at claim time, kept up to
    /// date with what this step writes.
    /// </summary>
    private sealed class Step(PlatformDbContext db, Job job, List<JobReplica> replicas, IServiceProvider services, JobReconciler owner)
    {
        public PlatformDbContext Db => db;
        public Job Job => job;
        public List<JobReplica> Replicas => replicas;
        public IServiceProvider Services => services;
        public DateTimeOffset Now => owner.Clock.GetUtcNow();

        /// <summary>
        /// Moves the job from the observed state read at claim time; false when it was changed meanwhile. A move to a
        /// final state finishes the job's open run in the same transaction (one is begun when the caller has none).
        /// </summary>
        public Task<bool> MoveAsync(JobObserved to, Func<UpdateSettersBuilder<Job>, UpdateSettersBuilder<Job>> more, string? message, string? reason = null) =>
            JobService.IsFinished(to)
                ? InOneTransactionAsync(() => MoveInTransactionAsync(to, more, message, reason))
                : MoveInTransactionAsync(to, more, message, reason);

        /// <summary>Runs <paramref name="work"/> in the caller's transaction, else in one of its own, committed when it returns true.</summary>
        private async Task<bool> InOneTransactionAsync(Func<Task<bool>> work)
        {
            if (db.Database.CurrentTransaction is not null)
            {
                return await work();
            }

            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            if (!await work())
            {
                return false;
            }

            await tx.CommitAsync(CancellationToken.None);
            return true;
        }

        private async Task<bool> MoveInTransactionAsync(JobObserved to, Func<UpdateSettersBuilder<Job>, UpdateSettersBuilder<Job>> more, string? message, string? reason)
        {
            var from = job.Observed;
            var now = Now;
            var generation = job.Generation;
            var changed = await db.Jobs
                .Where(x => x.Id == job.Id && x.LeaseOwner == owner.InstanceId && x.Observed == from)
                .ExecuteUpdateAsync(s => more(s
                    .SetProperty(x => x.Observed, to)
                    .SetProperty(x => x.Reason, reason)
                    .SetProperty(x => x.ObservedGeneration, generation)
                    .SetProperty(x => x.UpdatedAt, now)), CancellationToken.None);
            if (changed != 1)
            {
                return false;
            }

            job.Observed = to;
            job.Reason = reason;
            if (JobService.IsFinished(to))
            {
                // Its run ends with it (RunUpdated to open boards); points posted later re-open it.
                await JobRuns.FinishAsync(db, job.Id, now, CancellationToken.None);
            }

            if (message is not null)
            {
                await EventsAsync([message]);
            }
            else
            {
                await NotifyAsync();
            }

            return true;
        }

        /// <summary>Changes the job's row without a change of state (ports chosen, the next check), under the lease.</summary>
        public async Task UpdateAsync(Func<UpdateSettersBuilder<Job>, UpdateSettersBuilder<Job>> set, bool notify = false)
        {
            await db.Jobs.Where(x => x.Id == job.Id && x.LeaseOwner == owner.InstanceId).ExecuteUpdateAsync(s => set(s), CancellationToken.None);
            if (notify)
            {
                await NotifyAsync();
            }
        }

        /// <summary>Ends the job failed (from whatever it was), with its reason as an event and a notification to its owner.</summary>
        public Task FailAsync(string reason)
        {
            var now = Now;
            var cut = Trim(reason);
            return MoveAndNotifyOwnerAsync(JobObserved.Failed, s => s
                    .SetProperty(x => x.FinishedAt, now)
                    .SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null)
                    .SetProperty(x => x.TokenHash, (byte[]?)null), $"Failed: {cut}", cut,
                "job.failed", $"Job {job.Name} failed", cut);
        }

        /// <summary>
        /// <see cref="MoveAsync"/> and the owner's notification in one transaction: a worker dying between the two
        /// neither loses the notification nor leaves it without the state it tells of (the next worker finds the job
        /// still in its old state and ends it again). The <c>NOTIFY</c>s go out at the commit.
        /// </summary>
        public async Task<bool> MoveAndNotifyOwnerAsync(
            JobObserved to, Func<UpdateSettersBuilder<Job>, UpdateSettersBuilder<Job>> more, string message, string? reason,
            string kind, string title, string notification)
        {
            Notification? stored = null;
            if (!await InOneTransactionAsync(async () =>
                {
                    if (!await MoveInTransactionAsync(to, more, message, reason))
                    {
                        return false;
                    }

                    stored = await StoreOwnerNotificationAsync(kind, title, notification);
                    return true;
                }))
            {
                return false;
            }

            await MailAsync(stored);
            return true;
        }

        /// <summary>Writes the replica's observed fields as changed in memory by <paramref name="change"/>, under the job's lease.</summary>
        public async Task ReplicaAsync(JobReplica replica, Action<JobReplica> change)
        {
            change(replica);
            var leaseOwner = owner.InstanceId;
            await db.JobReplicas
                .Where(r => r.JobId == replica.JobId && r.Role == replica.Role && r.Index == replica.Index
                    && db.Jobs.Any(j => j.Id == replica.JobId && j.LeaseOwner == leaseOwner))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(r => r.Port, replica.Port)
                    .SetProperty(r => r.BackendState, replica.BackendState)
                    .SetProperty(r => r.Observed, replica.Observed)
                    .SetProperty(r => r.ExitCode, replica.ExitCode)
                    .SetProperty(r => r.Reason, replica.Reason)
                    .SetProperty(r => r.StartedAt, replica.StartedAt)
                    .SetProperty(r => r.FinishedAt, replica.FinishedAt), CancellationToken.None);
        }

        /// <summary>Keeps the lease for a long step (a launch over many replicas, an upload of many files).</summary>
        public Task RenewAsync()
        {
            var until = Now + owner.Options.Lease;
            return UpdateAsync(s => s.SetProperty(x => x.LeaseUntil, until));
        }

        /// <summary>Writes the events in the job's current state, then <c>NOTIFY jobs</c>.</summary>
        public async Task EventsAsync(IEnumerable<string> messages)
        {
            foreach (var message in messages)
            {
                db.JobEvents.Add(new JobEvent { JobId = job.Id, At = Now, State = job.Observed.ToString(), Message = Trim(message) });
            }

            await db.SaveChangesAsync(CancellationToken.None);
            await NotifyAsync();
        }

        /// <summary><c>NOTIFY jobs, '&lt;id&gt;'</c>: the live relay pushes the job to its pages; other workers wake harmlessly.</summary>
        public Task NotifyAsync() =>
            db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({JobService.Channel}, {job.Id.ToString()})", CancellationToken.None);

        public async Task NotifyOwnerAsync(string kind, string title, string message) =>
            await MailAsync(await StoreOwnerNotificationAsync(kind, title, message));

        private async Task MailAsync(Notification? stored)
        {
            if (stored is not null)
            {
                await services.GetRequiredService<NotificationService>().MailIfOptedInAsync(stored, CancellationToken.None);
            }
        }

        private async Task<Notification?> StoreOwnerNotificationAsync(string kind, string title, string message)
        {
            try
            {
                return await services.GetRequiredService<NotificationService>()
                    .StoreAsync(job.OwnerUserId, kind, title, message, $"/Jobs/{job.Id}", job.AccountId, CancellationToken.None);
            }
            catch (DbUpdateException ex)
            {
                // The owner was deleted meanwhile: nobody to tell. Inside a transaction EF Core has rolled back to the
                // savepoint it took before saving, so the rest still commits; the unsaved row is forgotten.
                foreach (var entry in db.ChangeTracker.Entries<Notification>().Where(e => e.State == EntityState.Added).ToList())
                {
                    entry.State = EntityState.Detached;
                }

                owner.Logger.LogWarning(ex, "Notification {Kind} for job {JobId} not stored", kind, job.Id);
                return null;
            }
        }

        private static string Trim(string text) => text.Length <= 3900 ? text : text[..3900] + "…";
    }
}
