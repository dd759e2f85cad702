using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Deployments.Backends.Docker;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;
using Platform.Core.Persistence;
using Platform.Core.Usage;

namespace Platform.Workers.Jobs;

/// <summary>How often the sampler reads, and how long samples are kept (<c>Platform:Usage</c>).</summary>
public sealed class UsageOptions
{
    public const string Section = "Platform:Usage";

    /// <summary>Six samples make one row per replica-minute, so the interval is 10 s and is not configurable.</summary>
    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(10);

    public TimeSpan AccountingInterval { get; set; } = TimeSpan.FromMinutes(1);
    public int RetentionDays { get; set; } = 30;
}

/// <summary>
/// Every 10 s, what each running job replica and each running deployment uses: CPU (cores), resident memory, GPU
/// (percent, where nvidia-smi exists), network and disk bytes in the slot. Process backend: the whole process group
/// the record's pid leads (one scan of /proc for all); network is not measurable per process group without a network
/// namespace, so it is -1 there. Docker backend: the container's stats endpoint. Each reading is upserted into its
/// slot (second / 10) of the replica's row for that minute, so a repeated write only overwrites the same slot. Rates
/// need two readings: the first after a start (or a restart of Workers) leaves NaN / -1.
/// </summary>
public sealed class UsageSampler(IServiceScopeFactory scopes, IServiceProvider services, TimeProvider clock, ILogger<UsageSampler> logger)
    : BackgroundService
{
    private static readonly JobObserved[] HoldingJob = [JobObserved.Starting, JobObserved.Running, JobObserved.Stopping];
    private readonly Dictionary<(WorkloadKind, Guid, string), Counters> _previous = [];
    private DateTimeOffset _lastCleanup = DateTimeOffset.MinValue;

    /// <summary>Cumulative counters of one target at one moment (-1: not measured).</summary>
    private sealed record Counters(DateTimeOffset At, double CpuSeconds, long Memory, long Rx, long Tx, long Read, long Write, float Gpu);

    private sealed record Target(WorkloadKind Kind, Guid Id, string Replica, string Backend, string? State, string Container);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(UsageOptions.SampleInterval, clock);
        do
        {
            try
            {
                await SampleOnceAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Usage sampling failed; trying again in {Interval}", UsageOptions.SampleInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Reads every running target once and stores what can be told; returns how many were written.</summary>
    public async Task<int> SampleOnceAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var targets = await TargetsAsync(db, ct);
        var now = clock.GetUtcNow();
        var groups = targets.Any(t => t.Backend == ProcessBackend.BackendName) ? ProcFs.ReadGroups() : new Dictionary<int, GroupStats>();
        var gpus = targets.Count > 0 ? await GpuUseAsync(ct) : null;
        var written = 0;
        foreach (var target in targets)
        {
            var counters = target.Backend == ProcessBackend.BackendName ? FromProcess(target, groups, gpus, now)
                : target.Backend == DockerBackend.BackendName ? await FromDockerAsync(target, now, ct)
                : null;
            if (counters is null)
            {
                continue;
            }

            var key = (target.Kind, target.Id, target.Replica);
            var previous = _previous.GetValueOrDefault(key);
            _previous[key] = counters;
            await WriteAsync(db, target, now, counters, previous, ct);
            written++;
        }

        // Forget targets that ended, so the map does not grow with every job ever run.
        var live = targets.Select(t => (t.Kind, t.Id, t.Replica)).ToHashSet();
        foreach (var gone in _previous.Keys.Where(k => !live.Contains(k)).ToList())
        {
            _previous.Remove(gone);
        }

        if (now - _lastCleanup > TimeSpan.FromHours(1))
        {
            var days = scope.ServiceProvider.GetService<Microsoft.Extensions.Options.IOptions<UsageOptions>>()?.Value.RetentionDays ?? 30;
            var cutoff = now.AddDays(-days);
            await db.UsageSamples.Where(s => s.Minute < cutoff).ExecuteDeleteAsync(ct);
            _lastCleanup = now;
        }

        return written;
    }

    private static async Task<List<Target>> TargetsAsync(PlatformDbContext db, CancellationToken ct)
    {
        var replicas = await (from r in db.JobReplicas
                              join j in db.Jobs on r.JobId equals j.Id
                              where HoldingJob.Contains(j.Observed) && (r.Observed == ReplicaObserved.Running || r.Observed == ReplicaObserved.Starting)
                              select new { j.Id, j.Backend, r.Role, r.Index, r.BackendState })
            .AsNoTracking().ToListAsync(ct);
        var deployments = await db.Deployments.AsNoTracking()
            .Where(d => d.Observed == ObservedState.Running && d.BackendState != null)
            .Select(d => new { d.Id, d.Backend, d.BackendState })
            .ToListAsync(ct);
        return
        [
            .. replicas.Select(r =>
            {
                var label = new JobReplica { Role = r.Role, Index = r.Index }.Label;
                return new Target(WorkloadKind.Job, r.Id, label, r.Backend, r.BackendState, BatchSpec.NameFor(r.Id, label));
            }),
            .. deployments.Select(d => new Target(WorkloadKind.Deployment, d.Id, "main",
                string.IsNullOrEmpty(d.Backend) ? ProcessBackend.BackendName : d.Backend, d.BackendState, WorkloadSpec.NameFor(d.Id))),
        ];
    }

    private static Counters? FromProcess(Target target, IReadOnlyDictionary<int, GroupStats> groups, IReadOnlyDictionary<int, float>? gpus, DateTimeOffset now)
    {
        ProcessRecord? record;
        try
        {
            record = target.State is null ? null : JsonSerializer.Deserialize<ProcessRecord>(target.State);
        }
        catch (JsonException)
        {
            return null;
        }

        if (record is not { Pid: > 0 } || !ProcessBackend.IsAlive(record) || !groups.TryGetValue(record.Pid, out var group))
        {
            return null;
        }

        var gpu = gpus is null ? float.NaN : group.Pids.Select(p => gpus.GetValueOrDefault(p, 0f)).Sum();
        return new Counters(now, (double)group.CpuTicks / ProcFs.ClockTicksPerSecond, group.RssBytes, -1, -1, group.ReadBytes, group.WriteBytes, gpu);
    }

    private async Task<Counters?> FromDockerAsync(Target target, DateTimeOffset now, CancellationToken ct)
    {
        if (services.GetService<DockerBackend>() is not { } docker)
        {
            return null;
        }

        try
        {
            if (await docker.Engine.StatsAsync(target.Container, ct) is not { } stats)
            {
                return null;
            }

            return ParseDockerStats(stats, now);
        }
        catch (Exception ex) when (ex is HttpRequestException or DockerApiException or IOException)
        {
            logger.LogDebug(ex, "No stats for container {Container}", target.Container);
            return null;
        }
    }

    /// <summary>The counters of a container's stats document (Docker's and Podman's compatible API share the names).</summary>
    private static Counters ParseDockerStats(JsonElement stats, DateTimeOffset now)
    {
        static long Long(JsonElement e, params string[] path)
        {
            foreach (var name in path)
            {
                if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(name, out e))
                {
                    return -1;
                }
            }

            return e.ValueKind == JsonValueKind.Number ? e.GetInt64() : -1;
        }

        var cpuNs = Long(stats, "cpu_stats", "cpu_usage", "total_usage");
        long rx = -1, tx = -1;
        if (stats.TryGetProperty("networks", out var networks) && networks.ValueKind == JsonValueKind.Object)
        {
            rx = tx = 0;
            foreach (var network in networks.EnumerateObject())
            {
                rx += Math.Max(0, Long(network.Value, "rx_bytes"));
                tx += Math.Max(0, Long(network.Value, "tx_bytes"));
            }
        }

        long read = -1, write = -1;
        if (stats.TryGetProperty("blkio_stats", out var blkio) && blkio.TryGetProperty("io_service_bytes_recursive", out var io) && io.ValueKind == JsonValueKind.Array)
        {
            read = write = 0;
            foreach (var entry in io.EnumerateArray())
            {
                var op = entry.TryGetProperty("op", out var o) ? o.GetString() : null;
                var value = Math.Max(0, Long(entry, "value"));
                if (string.Equals(op, "read", StringComparison.OrdinalIgnoreCase))
                {
                    read += value;
                }
                else if (string.Equals(op, "write", StringComparison.OrdinalIgnoreCase))
                {
                    write += value;
                }
            }
        }

        return new Counters(now, cpuNs < 0 ? double.NaN : cpuNs / 1e9, Long(stats, "memory_stats", "usage"), rx, tx, read, write, float.NaN);
    }

    /// <summary>
    /// GPU utilisation per pid from nvidia-smi: each compute process gets its GPU's utilisation (a GPU shared by two
    /// workloads counts for both). Null where nvidia-smi is missing or fails.
    /// </summary>
    private static async Task<IReadOnlyDictionary<int, float>?> GpuUseAsync(CancellationToken ct)
    {
        if (ProcessBackend.OnPath("nvidia-smi") is null)
        {
            return null;
        }

        var utilisation = (await RunAsync("--query-gpu=uuid,utilization.gpu", ct))?
            .Select(f => (Uuid: f[0], Percent: float.TryParse(f[1], CultureInfo.InvariantCulture, out var p) ? p : 0f))
            .ToDictionary(g => g.Uuid, g => g.Percent);
        var apps = await RunAsync("--query-compute-apps=pid,gpu_uuid,used_memory", ct);
        if (utilisation is null || apps is null)
        {
            return null;
        }

        var result = new Dictionary<int, float>();
        foreach (var app in apps)
        {
            if (int.TryParse(app[0], CultureInfo.InvariantCulture, out var pid))
            {
                result[pid] = result.GetValueOrDefault(pid) + utilisation.GetValueOrDefault(app[1]);
            }
        }

        return result;
    }

    private static async Task<List<string[]>?> RunAsync(string query, CancellationToken ct)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo("nvidia-smi", [query, "--format=csv,noheader,nounits"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return null;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            var output = await process.StandardOutput.ReadToEndAsync(timeout.Token);
            await process.WaitForExitAsync(timeout.Token);
            return process.ExitCode != 0 ? null
                : output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(',').Select(f => f.Trim()).ToArray()).Where(f => f.Length >= 2).ToList();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or OperationCanceledException or IOException)
        {
            return null;
        }
    }

    private static async Task WriteAsync(PlatformDbContext db, Target target, DateTimeOffset now, Counters current, Counters? previous, CancellationToken ct)
    {
        var seconds = previous is null ? 0 : (current.At - previous.At).TotalSeconds;
        var cpu = seconds > 0 && !double.IsNaN(current.CpuSeconds) && !double.IsNaN(previous!.CpuSeconds)
            // A member that ended takes its CPU time with it: a negative delta is read as no use, not as a credit.
            ? (float)Math.Max(0, (current.CpuSeconds - previous.CpuSeconds) / seconds)
            : float.NaN;
        long Delta(Func<Counters, long> of) => previous is null || of(current) < 0 || of(previous) < 0 ? -1 : Math.Max(0, of(current) - of(previous));

        var utc = now.ToUniversalTime();
        var minute = new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
        var slot = utc.Second / 10 + 1; // PostgreSQL arrays count from 1
        float[] Reals(float value)
        {
            var array = Enumerable.Repeat(float.NaN, 6).ToArray();
            array[slot - 1] = value;
            return array;
        }

        long[] Longs(long value)
        {
            var array = Enumerable.Repeat(-1L, 6).ToArray();
            array[slot - 1] = value;
            return array;
        }

        long rx = Delta(c => c.Rx), tx = Delta(c => c.Tx), read = Delta(c => c.Read), write = Delta(c => c.Write);
        await db.Database.ExecuteSqlInterpolatedAsync($"""
            INSERT INTO "UsageSamples" ("WorkloadKind", "WorkloadId", "Replica", "Minute", "Cpu", "Memory", "Gpu", "NetRx", "NetTx", "DiskRead", "DiskWrite")
            VALUES ({target.Kind.ToString()}, {target.Id}, {target.Replica}, {minute}, {Reals(cpu)}, {Longs(current.Memory)}, {Reals(current.Gpu)},
                    {Longs(rx)}, {Longs(tx)}, {Longs(read)}, {Longs(write)})
            ON CONFLICT ("WorkloadKind", "WorkloadId", "Replica", "Minute") DO UPDATE SET
                "Cpu"[{slot}] = {cpu}, "Memory"[{slot}] = {current.Memory}, "Gpu"[{slot}] = {current.Gpu},
                "NetRx"[{slot}] = {rx}, "NetTx"[{slot}] = {tx}, "DiskRead"[{slot}] = {read}, "DiskWrite"[{slot}] = {write}
            """, ct);
    }
}
