using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Core.Admin;

public sealed record ComponentHealth(string Name, string Status, string Detail, double? LatencyMs);

/// <summary>
/// The admin page's view of the platform: each service's /health (addresses from the Aspire-style
/// services:NAME:http:0 keys), the Workers heartbeat, the database and the object store.
/// </summary>
public sealed class ComponentHealthService(
    PlatformDbContext db, IHttpClientFactory http, IConfiguration configuration, IObjectStore store, TimeProvider clock)
{
    public const string WorkersComponent = "workers";
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    public async Task<IReadOnlyList<ComponentHealth>> CheckAllAsync(CancellationToken ct = default)
    {
        // The HTTP probe runs while the database checks do; those two share one DbContext, so they go in turn.
        var api = CheckServiceAsync("api", ct);
        var workers = await CheckWorkersAsync(ct);
        var database = await CheckDatabaseAsync(ct);
        return [await api, workers, database, await CheckStorageAsync(ct)];
    }

    private async Task<ComponentHealth> CheckServiceAsync(string name, CancellationToken ct)
    {
        var address = configuration[$"services:{name}:http:0"] ?? configuration[$"services:{name}:https:0"];
        if (string.IsNullOrWhiteSpace(address))
        {
            return new ComponentHealth(name, "Unknown", $"services:{name}:http:0 is not configured", null);
        }

        var watch = Stopwatch.StartNew();
        try
        {
            using var client = http.CreateClient("health");
            client.Timeout = TimeSpan.FromSeconds(5);
            using var response = await client.GetAsync(new Uri(new Uri(address), "/health"), ct);
            var status = response.IsSuccessStatusCode ? "Healthy" : "Unhealthy";
            return new ComponentHealth(name, status, $"{(int)response.StatusCode} from {address}", watch.Elapsed.TotalMilliseconds);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return new ComponentHealth(name, "Unhealthy", $"{address} did not answer: {ex.Message}", null);
        }
    }

    private async Task<ComponentHealth> CheckWorkersAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        var beats = await db.Heartbeats.AsNoTracking().Where(h => h.Component == WorkersComponent)
            .OrderByDescending(h => h.LastSeenAt).Take(20).ToListAsync(ct);
        var alive = beats.Where(b => now - b.LastSeenAt < HeartbeatInterval * 3).ToList();
        if (alive.Count == 0)
        {
            var last = beats.FirstOrDefault();
            return new ComponentHealth("workers", "Unhealthy",
                last is null ? "no heartbeat yet" : $"last heartbeat {(now - last.LastSeenAt).TotalSeconds:0} s ago from {last.Host} (pid {last.ProcessId})", null);
        }

        var newest = alive[0];
        return new ComponentHealth("workers", "Healthy",
            $"{alive.Count} instance(s); last heartbeat {(now - newest.LastSeenAt).TotalSeconds:0} s ago from {newest.Host} (pid {newest.ProcessId}, up since {newest.StartedAt:u})", null);
    }

    private async Task<ComponentHealth> CheckDatabaseAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var version = await db.Database.SqlQueryRaw<string>("SELECT version() AS \"Value\"").FirstAsync(ct);
            return new ComponentHealth("database", "Healthy", version.Split(" on ")[0], watch.Elapsed.TotalMilliseconds);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or InvalidOperationException)
        {
            return new ComponentHealth("database", "Unhealthy", ex.Message, null);
        }
    }

    /// <summary>A real round trip: write, read back and delete a small object, whichever store is configured.</summary>
    private async Task<ComponentHealth> CheckStorageAsync(CancellationToken ct)
    {
        var watch = Stopwatch.StartNew();
        var key = $"health/{Guid.NewGuid():N}";
        try
        {
            using var probe = new MemoryStream("ok"u8.ToArray());
            await store.PutAsync(key, probe, probe.Length, ct);
            var found = await store.HeadAsync(key, ct);
            await store.DeleteAsync(key, ct);
            return found?.Length == 2
                ? new ComponentHealth("storage", "Healthy", $"{store.Kind}: {store.Location}", watch.Elapsed.TotalMilliseconds)
                : new ComponentHealth("storage", "Unhealthy", $"{store.Kind}: {store.Location}: a written object could not be read back", null);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or HttpRequestException or Amazon.Runtime.AmazonServiceException or Amazon.Runtime.AmazonClientException)
        {
            return new ComponentHealth("storage", "Unhealthy", $"{store.Kind}: {store.Location}: {ex.Message}", null);
        }
    }
}
