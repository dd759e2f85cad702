using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Deployments;
using Platform.Core.Persistence;

namespace Platform.Api.Live;

/// <summary>
/// What a page needs to redraw a deployment without asking again: its state and desire, why, the address to open
/// once it runs, and its newest events (oldest first). <see cref="EventsTotal"/> lets a client that missed more than
/// <see cref="DeploymentUpdates.EventCount"/> events see the gap and fetch them from the REST API.
/// </summary>
public sealed record DeploymentUpdate(
    Guid Id,
    Guid OwnerUserId,
    string Title,
    string Service,
    string Desired,
    string Observed,
    string? Reason,
    string Url,
    bool Openable,
    long Generation,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? StoppedAt,
    int EventsTotal,
    IReadOnlyList<DeploymentEventResponse> Events);

/// <summary>Reads <see cref="DeploymentUpdate"/>s; who may receive one is decided by the hub and the relay, not here.</summary>
public sealed class DeploymentUpdates(PlatformDbContext db)
{
    public const int EventCount = 20;

    public async Task<DeploymentUpdate?> LoadAsync(Guid deploymentId, CancellationToken ct)
    {
        var d = await db.Deployments.AsNoTracking().FirstOrDefaultAsync(x => x.Id == deploymentId, ct);
        if (d is null)
        {
            return null;
        }

        var events = db.DeploymentEvents.Where(e => e.DeploymentId == deploymentId);
        var total = await events.CountAsync(ct);
        var newest = await events.OrderByDescending(e => e.Id).Take(EventCount)
            .Select(e => new DeploymentEventResponse(e.Id, e.At, e.State, e.Message)).ToListAsync(ct);
        newest.Reverse();
        var response = DeploymentService.ToResponse(d);
        return new DeploymentUpdate(d.Id, d.OwnerUserId, d.Title, response.Service, response.Desired, response.Observed, d.Reason, response.Url,
            Openable: d.Observed == ObservedState.Running && d.Desired == DesiredState.Running,
            d.Generation, d.UpdatedAt, d.StartedAt, d.StoppedAt, total, newest);
    }
}

/// <summary>
/// Which connections of this Api process subscribed to which deployment, and as whom: the relay checks each of
/// those users again before sending, so a viewer who lost access (left the account, share withdrawn) stops
/// receiving updates instead of keeping them for the life of the connection.
/// </summary>
public sealed class LiveSubscriptions
{
    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<string, Guid>> byDeployment = new();

    public void Add(Guid deploymentId, string connectionId, Guid userId) =>
        byDeployment.GetOrAdd(deploymentId, _ => new()).TryAdd(connectionId, userId);

    public void Remove(Guid deploymentId, string connectionId)
    {
        if (byDeployment.TryGetValue(deploymentId, out var connections))
        {
            connections.TryRemove(connectionId, out _);
            if (connections.IsEmpty)
            {
                // A subscriber racing this removal re-adds the dictionary through GetOrAdd; at worst it is re-created.
                byDeployment.TryRemove(KeyValuePair.Create(deploymentId, connections));
            }
        }
    }

    public void Forget(string connectionId)
    {
        foreach (var deploymentId in byDeployment.Keys)
        {
            Remove(deploymentId, connectionId);
        }
    }

    /// <summary>Everything someone here is subscribed to.</summary>
    public IReadOnlyList<Guid> Subjects() => byDeployment.Keys.ToList();

    /// <summary>The subscribed connections of one deployment with the user each subscribed as.</summary>
    public IReadOnlyList<(string ConnectionId, Guid UserId)> Of(Guid deploymentId) =>
        byDeployment.TryGetValue(deploymentId, out var connections)
            ? connections.Select(c => (c.Key, c.Value)).ToList()
            : [];
}
