using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Deployments;
using Platform.Core.Persistence;

namespace Platform.Web.Ide;

/// <summary>
/// Remembers that someone used a deployment's IDE through the proxy, for the idle culler (Workers) to read as
/// <see cref="Deployment.LastActivityAt"/>. A request only touches memory: at most once per
/// <see cref="IdleCullingOptions.ActivityWriteInterval"/> per deployment it queues a time, and a background loop writes
/// the queue in one go every few seconds. A WebSocket counts when it opens; traffic on it is seen by the IDE itself.
/// </summary>
public sealed class IdeActivity(IServiceScopeFactory scopes, IOptions<IdleCullingOptions> options, TimeProvider clock, ILogger<IdeActivity> logger)
    : BackgroundService
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _queued = new();
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _lastQueued = new();

    public void Touch(Guid deploymentId)
    {
        var now = clock.GetUtcNow();
        if (_lastQueued.TryGetValue(deploymentId, out var last) && now - last < options.Value.ActivityWriteInterval)
        {
            return;
        }

        _lastQueued[deploymentId] = now;
        _queued[deploymentId] = now;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushAsync(CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await FlushAsync(CancellationToken.None);
    }

    /// <summary>Writes what is queued; LastActivityAt only ever moves forward (the culler writes it too).</summary>
    public async Task FlushAsync(CancellationToken ct)
    {
        if (_queued.IsEmpty)
        {
            return;
        }

        try
        {
            using var scope = scopes.CreateScope();
            var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
            foreach (var id in _queued.Keys)
            {
                if (_queued.TryRemove(id, out var at))
                {
                    await db.Deployments.Where(d => d.Id == id && (d.LastActivityAt == null || d.LastActivityAt < at))
                        .ExecuteUpdateAsync(s => s.SetProperty(d => d.LastActivityAt, at), ct);
                }
            }

            // Forget deployments not touched for a while, so the map does not grow with every IDE ever opened.
            var stale = clock.GetUtcNow() - 4 * options.Value.ActivityWriteInterval;
            foreach (var (id, last) in _lastQueued)
            {
                if (last < stale)
                {
                    _lastQueued.TryRemove(id, out _);
                }
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
        {
            logger.LogWarning(ex, "IDE activity not recorded this time; the next use records it again");
        }
    }
}
