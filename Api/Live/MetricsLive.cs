using System.Buffers;
using System.Data;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Metrics;
using Platform.Core.Persistence;

namespace Platform.Api.Live;

/// <summary>
/// Live metrics for the boards (group <c>run:{id}</c> of <see cref="LiveHub"/>).
/// <para>
/// In the process that ingested a batch, <see cref="OnIngested"/> (called by ingestion after its commit) appends the
/// inserted points to the run's pending buffer, only when the run has subscribers here, and returns at once; one flusher
/// sends each run's pending points as "Points" at most once per frame (<see cref="Frame"/>, 16 ms), in the order they
/// were ingested, split into messages of at most <see cref="MaxPointsPerMessage"/> points so nothing is dropped however
/// far a burst runs ahead.
/// </para>
/// <para>
/// Other Api processes hear the batch through <c>NOTIFY metrics</c>, sent by the ingesting process on a connection of
/// its own (ingestion never waits for it). The payload carries the points themselves when they fit (PostgreSQL's limit is
/// 8,000 bytes: about 150 points; the SDK sends a batch every 25 ms, i.e. 12 points per series at 500 points/s), so a
/// listener delivers them without touching the table; a series whose points do not fit travels as its step range
/// (<c>seriesId, first, last</c>) and listeners with subscribers read exactly that range from MetricPoints (the batch
/// inserted those keys; a concurrent batch's points inside the range may come twice, and boards deduplicate by step).
/// Each payload names its origin, so the ingesting process ignores its own notifications, and processes with nobody
/// subscribed to the run ignore them too. <c>NOTIFY runs, '&lt;id&gt;'</c> becomes "RunUpdated", after asking again
/// whether each subscriber may still see the run. Both channels, and every batch ingested here, also tell
/// <see cref="RunListLive"/> which runs changed, for the runs lists.
/// </para>
/// <para>
/// Delivery, live, is at most once (as for jobs and deployments): a client that reconnects, or is told "resync" after
/// LISTEN was lost, subscribes again with the last step it has per series and <see cref="CatchUpAsync"/> answers the rest.
/// </para>
/// </summary>
public sealed class MetricsLive(
    IServiceScopeFactory scopes, IHubContext<LiveHub> hub, LiveRelayOptions options, ILogger<MetricsLive> logger, RunListLive runList)
    : BackgroundService, IMetricBatchObserver
{
    public const string Channel = "metrics";
    public const int CatchUpLimit = 20_000;
    public const int MaxPointsPerMessage = 5_000;
    public const int MaxPayloadBytes = 7_800;
    public static readonly TimeSpan Frame = TimeSpan.FromMilliseconds(16);

    private readonly string origin = Guid.NewGuid().ToString("N");
    private readonly Lock gate = new();
    private readonly PacedRounds rounds = new(Frame);
    private readonly Channel<IngestedBatch> outgoing = System.Threading.Channels.Channel.CreateUnbounded<IngestedBatch>(
        new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<(string Channel, string Payload)> incoming = System.Threading.Channels.Channel.CreateUnbounded<(string, string)>(
        new UnboundedChannelOptions { SingleReader = true });
    private Dictionary<Guid, Dictionary<string, SeriesPoints>> pending = [];
    private long sequence;
    private string connectionString = "";

    public LiveSubscriptions Subscriptions { get; } = new();

    /// <summary>Completes once LISTEN metrics/runs is in effect (again after every reconnect); for tests.</summary>
    public Task Listening => listening.Task;

    private TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Messages sent to groups, points in them and notifications sent; for tests and the bench.</summary>
    public long PointsSent => Interlocked.Read(ref pointsSent);

    private long pointsSent;
    private readonly LagStats lags = new();

    public static string RunGroup(Guid runId) => $"run:{runId}";

    public void OnIngested(IngestedBatch batch)
    {
        lags.Record(LagStats.Committed, batch.Series);
        if (batch.Series.Any(x => x.Steps.Length > 0))
        {
            runList.Changed(batch.RunId);
        }

        Append(batch.RunId, batch.Series.Select(s => (s.Name, s.Steps, s.AtMs, s.Values)));
        outgoing.Writer.TryWrite(batch);
    }

    private void Append(Guid runId, IEnumerable<(string Name, long[] Steps, long[] AtMs, double[] Values)> series)
    {
        if (Subscriptions.Of(runId).Count == 0)
        {
            return;
        }

        lock (gate)
        {
            if (!pending.TryGetValue(runId, out var run))
            {
                pending[runId] = run = new Dictionary<string, SeriesPoints>(StringComparer.Ordinal);
            }

            foreach (var (name, steps, atMs, values) in series)
            {
                if (steps.Length == 0)
                {
                    continue;
                }

                if (!run.TryGetValue(name, out var points))
                {
                    run[name] = points = new SeriesPoints(steps.Length);
                }

                points.AddRange(steps, atMs, values);
            }
        }

        rounds.Wake();
    }

    public void Forget(string connectionId) => Subscriptions.Forget(connectionId);

    /// <summary>
    /// The points of the run newer than <paramref name="lastSteps"/> (a series missing there: all of it), at most
    /// <see cref="CatchUpLimit"/>, series by series in step order.
    /// </summary>
    public static async Task<RunCatchUp> CatchUpAsync(PlatformDbContext db, Guid runId, IReadOnlyDictionary<string, long>? lastSteps, CancellationToken ct)
    {
        var names = lastSteps?.Keys.ToArray() ?? [];
        var steps = names.Select(n => lastSteps![n]).ToArray();
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT s."Name", p."Step", p."At", p."Value"
                FROM "MetricSeries" s
                LEFT JOIN unnest(@names, @steps) AS l(name, step) ON l.name = s."Name"
                CROSS JOIN LATERAL (
                    SELECT m."Step", m."At", m."Value" FROM "MetricPoints" m
                    WHERE m."SeriesId" = s."Id" AND m."Step" > COALESCE(l.step, -1)
                    ORDER BY m."Step" LIMIT @limit) p
                WHERE s."RunId" = @run
                ORDER BY s."Id", p."Step"
                LIMIT @limit
                """, connection);
            command.Parameters.Add(new NpgsqlParameter("names", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = names });
            command.Parameters.Add(new NpgsqlParameter("steps", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = steps });
            command.Parameters.AddWithValue("limit", CatchUpLimit + 1);
            command.Parameters.AddWithValue("run", runId);
            var series = new Dictionary<string, SeriesPoints>(StringComparer.Ordinal);
            var count = 0;
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (++count > CatchUpLimit)
                {
                    return new RunCatchUp(runId, series, Complete: false);
                }

                var name = reader.GetString(0);
                if (!series.TryGetValue(name, out var points))
                {
                    series[name] = points = new SeriesPoints();
                }

                points.Add(reader.GetInt64(1), reader.GetFieldValue<DateTimeOffset>(2).ToUnixTimeMilliseconds(), reader.GetDouble(3));
            }

            return new RunCatchUp(runId, series, Complete: true);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using (var scope = scopes.CreateScope())
        {
            connectionString = scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Database.GetConnectionString()!;
        }

        await Task.WhenAll(ReportLagsAsync(stoppingToken), FlushLoopAsync(stoppingToken), NotifyLoopAsync(stoppingToken), ListenAsync(stoppingToken), ReceiveLoopAsync(stoppingToken));
    }

    /// <summary>
    /// Every 10 s while points flow, one log line (Information, category Platform.Api.Live.MetricsLive): how old the points
    /// were (now minus the SDK's <c>at</c>) when their batch was committed here, and when their "Points" message had been
    /// handed to the connections: where a board's latency goes, SDK and ingestion before, fan-out after.
    /// </summary>
    private async Task ReportLagsAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                if (lags.Take() is { } report)
                {
                    logger.LogInformation("Live metrics lag since log_metric: {Report}", report);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private Task FlushLoopAsync(CancellationToken ct) => rounds.RunAsync(async ct =>
    {
        Dictionary<Guid, Dictionary<string, SeriesPoints>> flushing;
        lock (gate)
        {
            (flushing, pending) = (pending, []);
        }

        foreach (var (runId, series) in flushing)
        {
            try
            {
                await SendPointsAsync(runId, series, ct);
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Live points of run {RunId} not sent", runId);
            }
        }
    }, ct);

    /// <summary>Sends one run's pending points, split into messages of at most <see cref="MaxPointsPerMessage"/> points, in order.</summary>
    private async Task SendPointsAsync(Guid runId, Dictionary<string, SeriesPoints> series, CancellationToken ct)
    {
        var group = hub.Clients.Group(RunGroup(runId));
        var message = new Dictionary<string, SeriesPoints>(StringComparer.Ordinal);
        var size = 0;
        foreach (var (name, points) in series)
        {
            var offset = 0;
            while (offset < points.Count)
            {
                var take = Math.Min(points.Count - offset, MaxPointsPerMessage - size);
                message[name] = offset == 0 && take == points.Count ? points : points.Slice(offset, take);
                offset += take;
                size += take;
                if (size == MaxPointsPerMessage)
                {
                    await group.SendAsync("Points", new RunPoints(runId, message), ct);
                    Interlocked.Add(ref pointsSent, size);
                    lags.Record(LagStats.Sent, message.Values);
                    message = new Dictionary<string, SeriesPoints>(StringComparer.Ordinal);
                    size = 0;
                }
            }
        }

        if (size > 0)
        {
            await group.SendAsync("Points", new RunPoints(runId, message), ct);
            Interlocked.Add(ref pointsSent, size);
            lags.Record(LagStats.Sent, message.Values);
        }
    }

    /// <summary>Every ingested batch as NOTIFY metrics, on a connection of its own, several per round trip.</summary>
    private async Task NotifyLoopAsync(CancellationToken ct)
    {
        var payloads = new List<string>();
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                while (await outgoing.Reader.WaitToReadAsync(ct))
                {
                    if (payloads.Count == 0)
                    {
                        while (payloads.Count < 200 && outgoing.Reader.TryRead(out var batch))
                        {
                            payloads.AddRange(Payloads(batch));
                        }
                    }

                    await using var notify = new NpgsqlCommand($"SELECT pg_notify('{Channel}', p) FROM unnest(@payloads) AS t(p)", connection);
                    notify.Parameters.Add(new NpgsqlParameter("payloads", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = payloads.ToArray() });
                    await notify.ExecuteNonQueryAsync(ct);
                    payloads.Clear();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                // Other processes miss these; their clients catch up when they resubscribe (as after any lost message).
                logger.LogWarning(ex, "NOTIFY {Channel} failed; {Count} payloads not sent", Channel, payloads.Count);
                payloads.Clear();
                try
                {
                    await Task.Delay(options.ReconnectDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// The NOTIFY payloads of one batch: <c>{"o":origin,"q":seq,"r":runId,"s":[{"n":name,"i":seriesId,"p":[[step,atMs,value],..]}
    /// or {"n","i","f":firstStep,"l":lastStep}]}</c>, each under PostgreSQL's 8,000 bytes.
    /// </summary>
    public IEnumerable<string> Payloads(IngestedBatch batch)
    {
        var entries = new List<byte[]>();
        foreach (var s in batch.Series.Where(s => s.Steps.Length > 0))
        {
            var inline = Entry(s, inline: true);
            entries.Add(inline.Length <= MaxPayloadBytes - 200 ? inline : Entry(s, inline: false));
        }

        var index = 0;
        while (index < entries.Count)
        {
            var buffer = new ArrayBufferWriter<byte>();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                writer.WriteStartObject();
                writer.WriteString("o", origin);
                writer.WriteNumber("q", Interlocked.Increment(ref sequence));
                writer.WriteString("r", batch.RunId);
                writer.WriteStartArray("s");
                var size = 200;
                var first = true;
                while (index < entries.Count && (first || size + entries[index].Length + 1 <= MaxPayloadBytes))
                {
                    writer.WriteRawValue(entries[index], skipInputValidation: true);
                    size += entries[index].Length + 1;
                    index++;
                    first = false;
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            yield return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
        }
    }

    private static byte[] Entry(IngestedSeries s, bool inline)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("n", s.Name);
            writer.WriteNumber("i", s.SeriesId);
            if (inline)
            {
                writer.WriteStartArray("p");
                for (var i = 0; i < s.Steps.Length; i++)
                {
                    writer.WriteStartArray();
                    writer.WriteNumberValue(s.Steps[i]);
                    writer.WriteNumberValue(s.AtMs[i]);
                    SeriesPoints.WriteValue(writer, s.Values[i]);
                    writer.WriteEndArray();
                }

                writer.WriteEndArray();
            }
            else
            {
                writer.WriteNumber("f", s.Steps.Min());
                writer.WriteNumber("l", s.Steps.Max());
            }

            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Notifications of other processes, one at a time, so a series' points keep their order.</summary>
    private async Task ReceiveLoopAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var (channel, payload) in incoming.Reader.ReadAllAsync(ct))
            {
                try
                {
                    if (channel == Channel)
                    {
                        await ReceivePointsAsync(payload, ct);
                    }
                    else if (payload == "resync")
                    {
                        await runList.ResyncAsync(ct);
                        foreach (var runId in Subscriptions.Subjects())
                        {
                            await hub.Clients.Group(RunGroup(runId)).SendAsync("resync", ct);
                        }
                    }
                    else if (Guid.TryParse(payload, out var runId))
                    {
                        runList.Changed(runId);
                        if (Subscriptions.Of(runId).Count > 0)
                        {
                            await SendRunAsync(runId, ct);
                        }
                    }
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "Live {Channel} notification not relayed", channel);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task ReceivePointsAsync(string payload, CancellationToken ct)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        if (root.GetProperty("o").GetString() == origin)
        {
            return;
        }

        var runId = root.GetProperty("r").GetGuid();
        runList.Changed(runId);
        if (Subscriptions.Of(runId).Count == 0)
        {
            return;
        }

        var series = new List<(string, long[], long[], double[])>();
        foreach (var entry in root.GetProperty("s").EnumerateArray())
        {
            var name = entry.GetProperty("n").GetString()!;
            if (entry.TryGetProperty("p", out var rows))
            {
                var n = rows.GetArrayLength();
                var (steps, at, values) = (new long[n], new long[n], new double[n]);
                var i = 0;
                foreach (var row in rows.EnumerateArray())
                {
                    (steps[i], at[i], values[i]) = (row[0].GetInt64(), row[1].GetInt64(), SeriesPoints.ReadValue(row[2]));
                    i++;
                }

                series.Add((name, steps, at, values));
            }
            else
            {
                var points = await ReadRangeAsync(entry.GetProperty("i").GetInt64(), entry.GetProperty("f").GetInt64(), entry.GetProperty("l").GetInt64(), ct);
                var n = points.Count;
                var (steps, at, values) = (new long[n], new long[n], new double[n]);
                for (var i = 0; i < n; i++)
                {
                    (steps[i], at[i], values[i]) = (points.Step(i), points.AtMs(i), points.Value(i));
                }

                series.Add((name, steps, at, values));
            }
        }

        Append(runId, series);
    }

    private async Task<SeriesPoints> ReadRangeAsync(long seriesId, long first, long last, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(ct);
        await using var command = new NpgsqlCommand(
            """SELECT "Step", "At", "Value" FROM "MetricPoints" WHERE "SeriesId" = @s AND "Step" BETWEEN @f AND @l ORDER BY "Step" """, connection);
        command.Parameters.AddWithValue("s", seriesId);
        command.Parameters.AddWithValue("f", first);
        command.Parameters.AddWithValue("l", last);
        var points = new SeriesPoints();
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
        while (await reader.ReadAsync(ct))
        {
            points.Add(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1).ToUnixTimeMilliseconds(), reader.GetDouble(2));
        }

        return points;
    }

    /// <summary>"RunUpdated" to the run's group, after taking out whoever may no longer see it; a deleted run is told once.</summary>
    private async Task SendRunAsync(Guid runId, CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        var group = RunGroup(runId);
        if (run is null)
        {
            await hub.Clients.Group(group).SendAsync("RunUpdated", new RunUpdate(runId, "deleted", 0, 0, [], Deleted: true), ct);
            foreach (var (connectionId, _) in Subscriptions.Of(runId))
            {
                Subscriptions.Remove(runId, connectionId);
                await hub.Groups.RemoveFromGroupAsync(connectionId, group, ct);
            }

            return;
        }

        var allowed = new Dictionary<Guid, bool>();
        var left = 0;
        foreach (var (connectionId, userId) in Subscriptions.Of(runId))
        {
            if (!allowed.TryGetValue(userId, out var may))
            {
                allowed[userId] = may = await RunAccess.MaySeeAsync(db, userId, runId, ct);
            }

            if (may)
            {
                left++;
                continue;
            }

            Subscriptions.Remove(runId, connectionId);
            await hub.Groups.RemoveFromGroupAsync(connectionId, group, ct);
        }

        if (left == 0)
        {
            return;
        }

        var graphs = await db.RunGraphs.AsNoTracking().Where(g => g.RunId == runId).OrderBy(g => g.Position)
            .Select(g => new RunGraphUpdate(g.Title, g.Series, g.Position)).ToListAsync(ct);
        await hub.Clients.Group(group).SendAsync("RunUpdated", new RunUpdate(runId, run.State == RunState.Finished ? "finished" : "open",
            run.PointCount, run.Dropped, graphs, Deleted: false), ct);
    }

    private void OnNotification(object sender, NpgsqlNotificationEventArgs e) => incoming.Writer.TryWrite((e.Channel, e.Payload));

    private async Task ListenAsync(CancellationToken ct)
    {
        var lost = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(ct);
                connection.Notification += OnNotification;
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}; LISTEN {RunsChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(ct);
                }

                if (lost)
                {
                    // What was notified meanwhile is lost here: subscribed boards resubscribe with their last steps.
                    incoming.Writer.TryWrite((RunsChannel, "resync"));
                }

                listening.TrySetResult();
                while (!ct.IsCancellationRequested)
                {
                    await connection.WaitAsync(ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                logger.LogWarning(ex, "LISTEN {Channel} lost; trying again in {Delay}", Channel, options.ReconnectDelay);
                lost = true;
                if (listening.Task.IsCompleted)
                {
                    listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
                }

                try
                {
                    await Task.Delay(options.ReconnectDelay, ct);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The channel STORE notifies a run's changes on (<c>RunService.Channel</c>).</summary>
    public const string RunsChannel = "runs";
}

/// <summary>Samples of points' ages (ms since the SDK's <c>at</c>) at commit and at send, for <see cref="MetricsLive"/>'s log line.</summary>
internal sealed class LagStats
{
    public const int Committed = 0;
    public const int Sent = 1;
    private const int Capacity = 100_000;
    private readonly Lock gate = new();
    private readonly List<long>[] samples = [[], []];
    private readonly long[] counts = new long[2];

    public void Record(int which, IEnumerable<IngestedSeries> series)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (gate)
        {
            foreach (var s in series)
            {
                foreach (var at in s.AtMs)
                {
                    Add(which, now - at);
                }
            }
        }
    }

    public void Record(int which, IEnumerable<SeriesPoints> series)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        lock (gate)
        {
            foreach (var s in series)
            {
                for (var i = 0; i < s.Count; i++)
                {
                    Add(which, now - s.AtMs(i));
                }
            }
        }
    }

    private void Add(int which, long lag)
    {
        counts[which]++;
        var list = samples[which];
        if (list.Count < Capacity)
        {
            list.Add(lag);
        }
        else
        {
            // Reservoir sampling keeps the window's distribution in bounded memory.
            var j = Random.Shared.NextInt64(counts[which]);
            if (j < Capacity)
            {
                list[(int)j] = lag;
            }
        }
    }

    public string? Take()
    {
        lock (gate)
        {
            if (counts[Committed] == 0 && counts[Sent] == 0)
            {
                return null;
            }

            var parts = new List<string>();
            foreach (var (which, label) in new[] { (Committed, "committed"), (Sent, "sent") })
            {
                var list = samples[which];
                list.Sort();
                parts.Add(list.Count == 0 ? $"{label}: none" : string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"{label}: {counts[which]} points, p50 {list[list.Count / 2]} ms, p99 {list[Math.Min(list.Count - 1, (int)(list.Count * 0.99))]} ms, max {list[^1]} ms"));
                list.Clear();
                counts[which] = 0;
            }

            return string.Join("; ", parts);
        }
    }
}
