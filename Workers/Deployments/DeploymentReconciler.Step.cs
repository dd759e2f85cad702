using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query;
using Platform.Core.Deployments;
using Platform.Core.Persistence;

namespace Platform.Workers.Deployments;

public sealed partial class DeploymentReconciler
{
    /// <summary>Progress collected in order, written as events once the backend returns.</summary>
    private sealed class ListProgress : IProgress<string>
    {
        public List<string> Messages { get; } = [];

        public void Report(string value) => Messages.Add(value);
    }

    /// <summary>One claimed row: compare-and-set transitions, each with its event, all conditional on holding the lease.</summary>
    private sealed class Step(PlatformDbContext db, Deployment deployment, DeploymentReconciler owner)
    {
        public PlatformDbContext Db => db;
        public Deployment Deployment => deployment;

        /// <summary>Moves from the observed state read at claim time to a transitional one, if desire has not changed since.</summary>
        public async Task<bool> BeginAsync(ObservedState to, string message)
        {
            var now = owner.Clock.GetUtcNow();
            var changed = await db.Deployments
                .Where(x => x.Id == deployment.Id && x.LeaseOwner == owner.InstanceId && x.Observed == deployment.Observed && x.Generation == deployment.Generation)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.Observed, to).SetProperty(x => x.Reason, (string?)null).SetProperty(x => x.UpdatedAt, now),
                    CancellationToken.None);
            if (changed == 1)
            {
                await EventsAsync(to, [message]);
            }

            return changed == 1;
        }

        /// <summary>Records what was seen, for the generation acted on; a newer desire keeps the row due.</summary>
        public async Task RecordAsync(ObservedState from, ObservedState to,
            Func<UpdateSettersBuilder<Deployment>, UpdateSettersBuilder<Deployment>> more,
            string? message = null, string? reason = null)
        {
            var now = owner.Clock.GetUtcNow();
            var generation = deployment.Generation;
            var changed = await db.Deployments
                .Where(x => x.Id == deployment.Id && x.LeaseOwner == owner.InstanceId && x.Observed == from)
                .ExecuteUpdateAsync(s => more(s
                    .SetProperty(x => x.Observed, to)
                    .SetProperty(x => x.Reason, reason)
                    .SetProperty(x => x.ObservedGeneration, generation)
                    .SetProperty(x => x.UpdatedAt, now)), CancellationToken.None);
            if (changed == 1 && message is not null)
            {
                await EventsAsync(to, [message]);
            }
            else if (changed == 1 && from != to)
            {
                await NotifyAsync();
            }
        }

        public Task FailAsync(ObservedState from, string reason) =>
            RecordAsync(from, ObservedState.Failed, s => s.SetProperty(x => x.NextCheckAt, (DateTimeOffset?)null),
                $"Failed: {Trim(reason)}", Trim(reason));

        /// <summary>Writes the events, then tells the live relay (and other workers, harmlessly) that the deployment changed.</summary>
        public async Task EventsAsync(ObservedState state, IEnumerable<string> messages)
        {
            foreach (var message in messages)
            {
                db.DeploymentEvents.Add(new DeploymentEvent { DeploymentId = deployment.Id, At = owner.Clock.GetUtcNow(), State = state.ToString(), Message = Trim(message) });
            }

            if (await db.SaveChangesAsync(CancellationToken.None) > 0)
            {
                await NotifyAsync();
            }
        }

        /// <summary>
        /// <c>NOTIFY deployments</c>: what pages watch through Api's relay. Every transition comes with an event, so this
        /// follows each state change; a transition recorded without one (a silent change of state) notifies by itself.
        /// </summary>
        public Task NotifyAsync() =>
            db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({DeploymentService.Channel}, {deployment.Id.ToString()})", CancellationToken.None);

        private static string Trim(string text) => text.Length <= 3900 ? text : text[..3900] + "…";
    }
}
