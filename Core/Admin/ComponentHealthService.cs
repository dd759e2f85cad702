using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Platform.Core.Persistence;

namespace Platform.Core.Admin;

public sealed record ComponentHealth(string Name, string Status, string Detail, double? LatencyMs);

/// <summary>
/// The admin page's view of the platform: each service's /health (addresses from the Aspire-style
/// services:NAME:http:0 keys), the Workers heartbeat, the database and the object store.
/// </summary>
public sealed class ComponentHealthService(PlatformDbContext db, IHttpClientFactory http, IConfiguration configuration, TimeProvider clock)
{
    public const string WorkersComponent = "workers";
    public static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(10);

    public async Task<IReadOnlyList<ComponentHealth>> CheckAllAsync(CancellationToken ct = default)
    {
        // The HTTP probe runs while the database checks do; those two share one DbContext, so they go in turn.
        var api = CheckServiceAsync("api", ct);
        var workers = await CheckWorkersAsync(ct);
        var database = await CheckDatabaseAsync(ct);
        return [await api, workers, database, CheckStorage()];
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

    private ComponentHealth CheckStorage()
    {
        var store = ObjectStoreSettings.Parse(configuration.GetConnectionString(CoreExtensions.ObjectStoreName));
        if (store.Folder is { } folder)
        {
            try
            {
                Directory.CreateDirectory(folder);
                var probe = Path.Combine(folder, $".health-{Guid.NewGuid():N}");
                File.WriteAllText(probe, "ok");
                File.Delete(probe);
                var drive = new DriveInfo(folder);
                return new ComponentHealth("storage", "Healthy", $"folder {folder} ({drive.AvailableFreeSpace / (1L << 30)} GiB free)", null);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return new ComponentHealth("storage", "Unhealthy", $"folder {folder}: {ex.Message}", null);
            }
        }

        return new ComponentHealth("storage", "Unknown", $"S3 endpoint {store.Endpoint}: checked once the S3 store arrives (datasets)", null);
    }
}

/// <summary>
/// ConnectionStrings:objectstore is either a folder (<c>Folder=/path</c>, or a bare absolute path) or an S3 endpoint
/// (<c>Endpoint=https://host;AccessKey=...;SecretKey=...;Bucket=...;Region=...</c>).
/// </summary>
public sealed record ObjectStoreSettings(string? Folder, string? Endpoint, string? AccessKey, string? SecretKey, string? Bucket, string? Region)
{
    public const string DefaultFolder = ".data/objects";

    public static ObjectStoreSettings Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return new ObjectStoreSettings(Path.GetFullPath(DefaultFolder), null, null, null, null, null);
        }

        if (!value.Contains('='))
        {
            return new ObjectStoreSettings(Path.GetFullPath(value.Trim()), null, null, null, null, null);
        }

        var parts = value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
        string? Get(string key) => parts.TryGetValue(key, out var v) ? v : null;
        return new ObjectStoreSettings(
            Get("Folder") is { } folder ? Path.GetFullPath(folder) : null,
            Get("Endpoint"), Get("AccessKey"), Get("SecretKey"), Get("Bucket"), Get("Region"));
    }
}
