using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Metrics;
using Platform.Core.Persistence;

namespace Platform.Api.Live;

/// <summary>"RunsChanged": runs that the list page showing them (or that would show them) should redraw.</summary>
public sealed record RunsChanged(IReadOnlyList<Guid> RunIds);

/// <summary>
/// The runs list (/Runs) live. A page watches through <see cref="LiveHub.SubscribeRuns"/> (its scope, and the runs it
/// shows); <see cref="MetricsLive"/> calls <see cref="Changed"/> for every run that was created, updated, finished,
/// re-opened or deleted (<c>NOTIFY runs</c>) and every run that gained points (ingested here, or <c>NOTIFY metrics</c>
/// from another process). Changes are gathered and sent at most once per <see cref="Interval"/>: one query finds, for
/// the changed runs, which watching users may see them (the owner; with scope "account" also the masters of the run's
/// account, <see cref="RunAccess"/>'s rule), and each watching connection gets one "RunsChanged" naming those runs only.
/// A deleted run (its row gone) is told to the connections whose page showed it, access having been checked when the
/// page said so. The page redraws its table from the server, so filters, order and paging stay the page's.
/// </summary>
public sealed class RunListLive(IServiceScopeFactory scopes, IHubContext<LiveHub> hub, ILogger<RunListLive> logger) : BackgroundService
{
    /// <summary>At most two messages a second per watching page, however many runs log.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>The most shown runs a page may name (the list shows 25 a page).</summary>
    public const int MaxShown = 200;

    private readonly ConcurrentDictionary<string, Watcher> watchers = new();
    private readonly Lock gate = new();
    private readonly PacedRounds rounds = new(Interval);
    private HashSet<Guid> changed = [];

    /// <summary>Connections watching here; for tests.</summary>
    public int Watching => watchers.Count;

    /// <summary>Records what the page watches: its user, its scope and which of the runs it names the user may see.</summary>
    public async Task WatchAsync(PlatformDbContext db, string connectionId, Guid userId, bool accountScope, IReadOnlyCollection<Guid>? shown, CancellationToken ct)
    {
        var ids = (shown ?? []).Distinct().Take(MaxShown).ToArray();
        var visible = ids.Length == 0 ? []
            : await RunAccess.Visible(db, userId).Where(r => ids.Contains(r.Id)).Select(r => r.Id).ToListAsync(ct);
        watchers[connectionId] = new Watcher(userId, accountScope, [.. visible]);
    }

    public void Forget(string connectionId) => watchers.TryRemove(connectionId, out _);

    /// <summary>Something about the run changed (cheap when nobody watches: the ingestion path calls it per batch).</summary>
    public void Changed(Guid runId)
    {
        if (watchers.IsEmpty)
        {
            return;
        }

        lock (gate)
        {
            if (!changed.Add(runId) || changed.Count > 1)
            {
                return;
            }
        }

        rounds.Wake();
    }

    /// <summary>After LISTEN was lost: every watching page reloads its list (live.js's "resync" runs its hooks).</summary>
    public async Task ResyncAsync(CancellationToken ct)
    {
        foreach (var connectionId in watchers.Keys)
        {
            await hub.Clients.Client(connectionId).SendAsync("resync", ct);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => rounds.RunAsync(async ct =>
    {
        HashSet<Guid> runs;
        lock (gate)
        {
            (runs, changed) = (changed, []);
        }

        try
        {
            await SendAsync(runs, ct);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Runs list updates for {Count} runs not sent", runs.Count);
        }
    }, stoppingToken);

    private async Task SendAsync(HashSet<Guid> runs, CancellationToken ct)
    {
        var watching = watchers.ToArray();
        if (watching.Length == 0 || runs.Count == 0)
        {
            return;
        }

        var ids = runs.ToArray();
        var users = watching.Select(w => w.Value.UserId).Distinct().ToArray();
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        // For each changed run that still exists: its owner and those watching users who are masters of its account.
        var found = await db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id))
            .Select(r => new
            {
                r.Id,
                r.OwnerUserId,
                Masters = db.Memberships.Where(m => m.AccountId == r.AccountId && m.Role == AccountRole.Master && users.Contains(m.UserId))
                    .Select(m => m.UserId).ToList(),
            })
            .ToListAsync(ct);
        var gone = ids.Except(found.Select(r => r.Id)).ToList();
        foreach (var (connectionId, watcher) in watching)
        {
            var told = found
                .Where(r => r.OwnerUserId == watcher.UserId || (watcher.AccountScope && r.Masters.Contains(watcher.UserId)))
                .Select(r => r.Id)
                .Concat(gone.Where(watcher.Shown.Contains))
                .ToList();
            if (told.Count > 0)
            {
                await hub.Clients.Client(connectionId).SendAsync("RunsChanged", new RunsChanged(told), ct);
            }
        }
    }

    private sealed record Watcher(Guid UserId, bool AccountScope, HashSet<Guid> Shown);
}
