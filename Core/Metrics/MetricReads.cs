using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Metrics;

/// <summary>
/// Reading a run's points: a range of one or more series at the finest resolution that fits in <c>maxPoints</c> (raw
/// points, or rollup buckets of 2^6, 2^9, 2^12 or 2^15 steps with their min/max envelope), and the whole run streamed
/// as CSV or JSON.
/// </summary>
public sealed class MetricReads(PlatformDbContext db, RunService runs)
{
    public const int DefaultMaxPoints = 4_000;
    public const int MaxMaxPoints = 100_000;

    public async Task<Result<PointsResponse>> PointsAsync(Guid userId, Guid runId, IReadOnlyList<string>? series, long? from, long? to,
        int? maxPoints, CancellationToken ct = default)
    {
        if (!await RunAccess.MaySeeAsync(db, userId, runId, ct))
        {
            return Error.NotFound("Run");
        }

        var errors = new FieldErrors();
        if (from is < 0)
        {
            errors.Add("from", "Steps start at 0.");
        }

        if (from is { } f && to is { } t && t < f)
        {
            errors.Add("to", "The range ends at or after its start.");
        }

        var max = maxPoints ?? DefaultMaxPoints;
        if (max is < 1 or > MaxMaxPoints)
        {
            errors.Add("maxPoints", $"Ask for 1 to {MaxMaxPoints} points a series.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var wanted = series is { Count: > 0 } ? series.Distinct(StringComparer.Ordinal).ToList() : null;
        var rows = await db.MetricSeries.AsNoTracking().Where(s => s.RunId == runId && (wanted == null || wanted.Contains(s.Name)))
            .OrderBy(s => s.Id).Select(s => new { s.Id, s.Name, s.PointCount }).ToListAsync(ct);
        var lo = from ?? 0;
        var hi = to ?? long.MaxValue;
        var result = new List<SeriesPoints>(rows.Count);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            foreach (var s in rows)
            {
                result.Add(await SeriesAsync(connection, s.Id, s.Name, s.PointCount, from, to, lo, hi, max, ct));
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        return new PointsResponse(runId, result);
    }

    private static async Task<SeriesPoints> SeriesAsync(NpgsqlConnection connection, long seriesId, string name, long pointCount,
        long? from, long? to, long lo, long hi, int max, CancellationToken ct)
    {
        // Raw when the range holds at most max points (counted no further than max + 1).
        var total = from is null && to is null ? pointCount : await CountAsync(connection,
            """SELECT count(*) FROM (SELECT 1 FROM "MetricPoints" WHERE "SeriesId" = $1 AND "Step" BETWEEN $2 AND $3 LIMIT $4) x""",
            seriesId, lo, hi, max + 1L, ct);
        if (total <= max)
        {
            var steps = new List<long>();
            var times = new List<long>();
            var values = new List<double>();
            await using var command = new NpgsqlCommand(
                """SELECT "Step", "At", "Value" FROM "MetricPoints" WHERE "SeriesId" = $1 AND "Step" BETWEEN $2 AND $3 ORDER BY "Step" """, connection);
            Add(command, seriesId, lo, hi);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                steps.Add(reader.GetInt64(0));
                times.Add(ToMs(reader.GetDateTime(1)));
                values.Add(reader.GetDouble(2));
            }

            return new SeriesPoints(name, from, to, steps.Count, 0, [.. steps], [.. times], [.. values], null, null);
        }

        // Otherwise the finest rollup level whose bucket count in the range fits (the coarsest when none does).
        var level = MetricIngestion.Levels[^1];
        foreach (var l in MetricIngestion.Levels)
        {
            var buckets = await CountAsync(connection,
                """SELECT count(*) FROM (SELECT 1 FROM "MetricRollups" WHERE "SeriesId" = $1 AND "Level" = $5 AND "Bucket" BETWEEN $2 AND $3 LIMIT $4) x""",
                seriesId, lo >> l, hi >> l, max + 1L, ct, l);
            if (buckets <= max)
            {
                level = l;
                break;
            }
        }

        var bSteps = new List<long>();
        var bTimes = new List<long>();
        var means = new List<double>();
        var mins = new List<double>();
        var maxs = new List<double>();
        long count = 0;
        await using (var command = new NpgsqlCommand("""
            SELECT "LastStep", "LastAt", "Count", "NonFinite", "Min", "Max", "Sum" FROM "MetricRollups"
            WHERE "SeriesId" = $1 AND "Level" = $4 AND "Bucket" BETWEEN $2 AND $3 ORDER BY "Bucket"
            """, connection))
        {
            Add(command, seriesId, lo >> level, hi >> level);
            command.Parameters.Add(new NpgsqlParameter { Value = level });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                var n = reader.GetInt64(2);
                var finite = n - reader.GetInt64(3);
                count += n;
                bSteps.Add(reader.GetInt64(0));
                bTimes.Add(ToMs(reader.GetDateTime(1)));
                mins.Add(reader.GetDouble(4));
                maxs.Add(reader.GetDouble(5));
                means.Add(finite > 0 ? reader.GetDouble(6) / finite : double.NaN);
            }
        }

        return new SeriesPoints(name, from, to, from is null && to is null ? pointCount : count, level,
            [.. bSteps], [.. bTimes], [.. means], [.. mins], [.. maxs]);
    }

    /// <summary>Checks access and the format before anything is streamed; null series means all of them.</summary>
    public async Task<Result<ExportPlan>> PlanExportAsync(Guid userId, Guid runId, string? format, IReadOnlyList<string>? series, CancellationToken ct = default)
    {
        var run = await runs.GetAsync(userId, runId, ct);
        if (run.Error is { } error)
        {
            return error;
        }

        format = string.IsNullOrWhiteSpace(format) ? "csv" : format.Trim().ToLowerInvariant();
        if (format is not ("csv" or "json"))
        {
            return Error.Invalid("format", "Export as 'csv' or 'json'.");
        }

        return new ExportPlan(run.Value!, format == "json", series is { Count: > 0 } ? series.Distinct(StringComparer.Ordinal).ToList() : null);
    }

    /// <summary>Writes the run's points, series by series in step order, to <paramref name="output"/> as they are read.</summary>
    public async Task ExportAsync(ExportPlan plan, Stream output, CancellationToken ct = default)
    {
        var wanted = plan.Series;
        var series = plan.Run.Series.Where(s => wanted is null || wanted.Contains(s.Name)).Select(s => s.Name).ToList();
        var ids = await db.MetricSeries.AsNoTracking().Where(s => s.RunId == plan.Run.Id && series.Contains(s.Name))
            .ToDictionaryAsync(s => s.Id, s => s.Name, ct);
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var command = new NpgsqlCommand(
                """SELECT "SeriesId", "Step", "At", "Value" FROM "MetricPoints" WHERE "SeriesId" = ANY($1) ORDER BY "SeriesId", "Step" """, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = ids.Keys.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (plan.Json)
            {
                await using var json = new Utf8JsonWriter(output);
                json.WriteStartObject();
                json.WritePropertyName("run");
                // Serialize(writer, …) would flush synchronously, which a response stream refuses.
                json.WriteRawValue(JsonSerializer.SerializeToUtf8Bytes(plan.Run, JsonOptions), skipInputValidation: true);
                json.WriteStartObject("series");
                long current = -1;
                while (await reader.ReadAsync(ct))
                {
                    var id = reader.GetInt64(0);
                    if (id != current)
                    {
                        if (current != -1)
                        {
                            json.WriteEndArray();
                        }

                        json.WriteStartArray(ids[id]);
                        current = id;
                    }

                    json.WriteStartArray();
                    json.WriteNumberValue(reader.GetInt64(1));
                    json.WriteNumberValue(ToMs(reader.GetDateTime(2)));
                    PointInputConverter.WriteValue(json, reader.GetDouble(3));
                    json.WriteEndArray();
                    if (json.BytesPending > 32 * 1024)
                    {
                        await json.FlushAsync(ct);
                    }
                }

                if (current != -1)
                {
                    json.WriteEndArray();
                }

                json.WriteEndObject();
                json.WriteEndObject();
                await json.FlushAsync(ct);
            }
            else
            {
                await using var writer = new StreamWriter(output, new UTF8Encoding(false), 64 * 1024, leaveOpen: true);
                await writer.WriteAsync("series,step,time,value\n");
                var quoted = ids.ToDictionary(e => e.Key, e => Csv(e.Value));
                while (await reader.ReadAsync(ct))
                {
                    await writer.WriteAsync(quoted[reader.GetInt64(0)]);
                    await writer.WriteAsync(',');
                    await writer.WriteAsync(reader.GetInt64(1).ToString(CultureInfo.InvariantCulture));
                    await writer.WriteAsync(',');
                    await writer.WriteAsync(reader.GetDateTime(2).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
                    await writer.WriteAsync(',');
                    await writer.WriteAsync(PointInputConverter.Format(reader.GetDouble(3)));
                    await writer.WriteAsync('\n');
                }

                await writer.FlushAsync(ct);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static string Csv(string value) =>
        value.IndexOfAny([',', '"', '\n', '\r']) >= 0 || value.StartsWith(' ') || value.EndsWith(' ')
            ? "\"" + value.Replace("\"", "\"\"") + "\""
            : value;

    private static long ToMs(DateTime at) => (at.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    private static void Add(NpgsqlCommand command, long seriesId, long lo, long hi)
    {
        command.Parameters.Add(new NpgsqlParameter { Value = seriesId });
        command.Parameters.Add(new NpgsqlParameter { Value = lo });
        command.Parameters.Add(new NpgsqlParameter { Value = hi });
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string sql, long seriesId, long lo, long hi, long limit,
        CancellationToken ct, int? level = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        Add(command, seriesId, lo, hi);
        command.Parameters.Add(new NpgsqlParameter { Value = limit });
        if (level is { } l)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = l });
        }

        return (long)(await command.ExecuteScalarAsync(ct))!;
    }
}

/// <summary>What an export will write: the run (access checked), JSON or CSV, and which series (null: all).</summary>
public sealed record ExportPlan(RunResponse Run, bool Json, IReadOnlyList<string>? Series);
