using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Persistence;

namespace Platform.Workers.Reconciliation;

/// <summary>
/// The loop every desired-state reconciler shares: <c>LISTEN</c> on its channel wakes it, a resync every
/// <see cref="ResyncInterval"/> catches the rest; each pass claims due rows under a lease while there is room (at most
/// <see cref="MaxInFlight"/> acted on at once) and acts on each by itself, so a slow row never holds the others back; a
/// row that finishes frees its slot and wakes the loop. On a clean shutdown it waits for what is in flight and gives its
/// leases back, so another worker need not wait for them to run out. Subclasses say what is due (<see cref="ClaimAsync"/>),
/// what to do with one row (<see cref="ReconcileAsync"/>) and how their leases are released.
/// </summary>
public abstract class LeasedReconciler : BackgroundService
{
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly ConcurrentDictionary<Guid, Task> _inFlight = new();

    protected abstract IServiceScopeFactory Scopes { get; }

    protected abstract ILogger Logger { get; }

    /// <summary>The NOTIFY channel that says a row changed.</summary>
    protected abstract string Channel { get; }

    /// <summary>What a row is, for log lines ("deployment", "job").</summary>
    protected abstract string Noun { get; }

    protected abstract int MaxInFlight { get; }

    protected abstract TimeSpan ResyncInterval { get; }

    /// <summary>Leases up to <paramref name="limit"/> due rows, never one of <paramref name="busy"/> (still acted on here).</summary>
    protected abstract Task<List<Guid>> ClaimAsync(int limit, Guid[] busy, CancellationToken ct);

    /// <summary>Acts on one leased row and gives its lease back.</summary>
    protected abstract Task ReconcileAsync(Guid id, CancellationToken ct);

    /// <summary>Clears every lease this process holds.</summary>
    protected abstract Task ReleaseLeasesAsync(PlatformDbContext db);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var listening = ListenAsync(stoppingToken);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await ClaimAndStartAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    // The database may be restarting; the next pass tries again.
                    Logger.LogWarning(ex, "Reconciliation pass over {Noun}s failed", Noun);
                }

                try
                {
                    await _wake.WaitAsync(ResyncInterval, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
        finally
        {
            await Task.WhenAll(_inFlight.Values);
            await ReleaseAllAsync();
            await listening;
        }
    }

    /// <summary>A sliding window: claims while there is room, each claimed row acted on by itself.</summary>
    private async Task ClaimAndStartAsync(CancellationToken ct)
    {
        while (MaxInFlight - _inFlight.Count is var room and > 0)
        {
            var claimed = await ClaimAsync(room, [.. _inFlight.Keys], ct);
            foreach (var id in claimed)
            {
                // Registered before it may run, so its own removal can never come first.
                var registered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _inFlight[id] = ActAsync(id, registered.Task, ct);
                registered.SetResult();
            }

            if (claimed.Count < room)
            {
                return;
            }
        }
    }

    private async Task ActAsync(Guid id, Task registered, CancellationToken ct)
    {
        await registered;
        try
        {
            await ReconcileAsync(id, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            Logger.LogWarning(ex, "Reconciling {Noun} {Id} stopped early; it stays due", Noun, id);
        }
        catch (OperationCanceledException)
        {
            // Shutting down: the lease is given back and the next worker resumes the row.
        }
        finally
        {
            _inFlight.TryRemove(id, out _);
            Wake();
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        string connectionString;
        using (var scope = Scopes.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Database.GetConnectionString()!;
        }

        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += (_, _) => Wake();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                // Anything notified before LISTEN took effect is found by this pass.
                Wake();
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                Logger.LogWarning(ex, "LISTEN {Channel} lost; the resync covers until it is back", Channel);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(2), ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already woken.
        }
    }

    private async Task ReleaseAllAsync()
    {
        try
        {
            using var scope = Scopes.CreateScope();
            await ReleaseLeasesAsync(scope.ServiceProvider.GetRequiredService<PlatformDbContext>());
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ObjectDisposedException)
        {
            Logger.LogWarning(ex, "{Noun} leases not released; they run out by themselves", Noun);
        }
    }
}
