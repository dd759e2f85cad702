using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Metrics;

/// <summary>
/// The write path of the boards. One transaction per batch: lock the run row (so concurrent batches of one run take
/// their turn and never deadlock or lose a counter), upsert the series, then one statement inserts the points (sent as
/// binary array parameters and unnested) (<c>ON CONFLICT DO NOTHING</c>: a retried point is counted as a duplicate, never
/// stored twice) and, from only the rows it inserted, upserts the four rollup levels and the series' counters; the
/// run's counters last. After the commit every <see cref="IMetricBatchObserver"/> hears of the inserted points.
/// </summary>
public sealed class MetricIngestion(
    PlatformDbContext db, RunService runs, IOptions<MetricsOptions> options, IEnumerable<IMetricBatchObserver> observers, TimeProvider clock,
    ILogger<MetricIngestion> logger)
{
    /// <summary>Bucket widths of the rollups: 2^6, 2^9, 2^12 and 2^15 steps.</summary>
    public static readonly int[] Levels = [6, 9, 12, 15];

    private const int MaxReportedErrors = 20;

    // Unix seconds accepted for "at": 1970 to 9999.
    private const double MaxAtSeconds = 253402300799;

    /// <param name="keyJobId">The job of the caller's job key; null for any other credential.</param>
    public async Task<Result<IngestResponse>> IngestAsync(Guid userId, Guid? keyJobId, Guid runId, IngestRequest request, CancellationToken ct = default)
    {
        // A malformed batch is refused before any query; who may write is checked by the write's first statement
        // (the run row is locked only when the caller owns it), and only a refusal takes the longer way that tells
        // "not found" from "forbidden".
        var limits = options.Value;
        var points = request.Points ?? [];
        var errors = Validate(points, request.Dropped, limits);
        if (errors.Any)
        {
            return errors.ToError();
        }

        var now = clock.GetUtcNow();
        var result = await WriteAsync(userId, keyJobId, runId, points, request.Dropped ?? 0, limits, now, ct);
        if (result.Error is not null)
        {
            return result.Error.Kind == ErrorKind.NotFound ? (await runs.WritableAsync(userId, keyJobId, runId, ct)).Error ?? result.Error : result.Error;
        }

        var (response, batch) = result.Value!;
        if (batch.Series.Count > 0)
        {
            // The points are committed: an observer that fails must not turn that into an error the SDK would retry.
            foreach (var observer in observers)
            {
                try
                {
                    observer.OnIngested(batch);
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Metric batch observer {Observer} failed for run {RunId}", observer.GetType().Name, batch.RunId);
                }
            }
        }

        return response;
    }

    internal static FieldErrors Validate(List<PointInput> points, long? dropped, MetricsOptions limits)
    {
        var errors = new FieldErrors();
        if (points.Count > limits.MaxBatch)
        {
            errors.Add("points", $"A batch holds at most {limits.MaxBatch} points; this one has {points.Count}.");
            return errors;
        }

        if (dropped is < 0)
        {
            errors.Add("dropped", "The number of dropped points is 0 or more.");
        }

        var reported = 0;
        for (var i = 0; i < points.Count && reported < MaxReportedErrors; i++)
        {
            var p = points[i];
            if (p.BadName || p.Name is null || !RunService.ValidName(p.Name))
            {
                errors.Add($"points[{i}].name", $"A metric name is 1 to {RunService.NameMaxLength} characters, no control characters.");
                reported++;
            }

            if (p.BadStep || !p.HasStep || p.Step < 0)
            {
                errors.Add($"points[{i}].step", "The step is a whole number, 0 or more.");
                reported++;
            }

            if (p.BadValue || !p.HasValue)
            {
                errors.Add($"points[{i}].value", "The value is a number, or \"NaN\", \"Infinity\" or \"-Infinity\".");
                reported++;
            }

            if (p.BadAt || p.At is { } at && (!double.IsFinite(at) || at is < 0 or > MaxAtSeconds))
            {
                errors.Add($"points[{i}].at", "The time is Unix seconds (as time.time() gives), or absent for now.");
                reported++;
            }
        }

        return errors;
    }

    private async Task<Result<(IngestResponse, IngestedBatch)>> WriteAsync(
        Guid userId, Guid? keyJobId, Guid runId, List<PointInput> points, long dropped, MetricsOptions limits, DateTimeOffset now, CancellationToken ct)
    {
        var names = points.Select(p => p.Name!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var connection = (NpgsqlConnection)db.Database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(ct);

            // 1. One round trip: the run row if the caller may write to it (its owner; with a job's key, only that
            //    job's run), locked (batches of one run queue here, so the series, rollups and counters below are
            //    only ever changed by one transaction at a time: no lock-order cycles, no lost updates), and the
            //    series the batch names that exist already. Anything else reads as not found here; the caller then
            //    asks RunService which refusal it is.
            long pointCount;
            RunState state;
            Guid accountId;
            var ids = new Dictionary<string, long>(StringComparer.Ordinal);
            var lastSteps = new Dictionary<string, long>(StringComparer.Ordinal);
            await using (var first = new NpgsqlBatch(connection, transaction))
            {
                first.BatchCommands.Add(new NpgsqlBatchCommand("""
                    SELECT "PointCount", "State", "AccountId" FROM "Runs"
                    WHERE "Id" = $1 AND "OwnerUserId" = $2 AND ($3::uuid IS NULL OR "JobId" = $3) FOR UPDATE
                    """)
                {
                    Parameters =
                    {
                        new NpgsqlParameter { Value = runId },
                        new NpgsqlParameter { Value = userId },
                        new NpgsqlParameter { Value = keyJobId is { } job ? job : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid },
                    },
                });
                first.BatchCommands.Add(new NpgsqlBatchCommand("""SELECT "Id", "Name", "LastStep" FROM "MetricSeries" WHERE "RunId" = $1 AND "Name" = ANY($2)""")
                {
                    Parameters = { new NpgsqlParameter { Value = runId }, new NpgsqlParameter { Value = names } },
                });
                await using var reader = await first.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    return Error.NotFound("Run");
                }

                pointCount = reader.GetInt64(0);
                state = Enum.Parse<RunState>(reader.GetString(1));
                accountId = reader.GetGuid(2);
                await reader.NextResultAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var name = reader.GetString(1);
                    ids[name] = reader.GetInt64(0);
                    if (!reader.IsDBNull(2))
                    {
                        lastSteps[name] = reader.GetInt64(2);
                    }
                }
            }

            // 2. The new series, within the per-run limit.
            var missing = names.Where(n => !ids.ContainsKey(n)).ToArray();
            if (missing.Length > 0)
            {
                await using (var count = new NpgsqlCommand("""SELECT count(*) FROM "MetricSeries" WHERE "RunId" = $1""", connection, transaction))
                {
                    count.Parameters.Add(new NpgsqlParameter { Value = runId });
                    var existing = (long)(await count.ExecuteScalarAsync(ct))!;
                    if (existing + missing.Length > limits.MaxSeriesPerRun)
                    {
                        return Error.Invalid("points",
                            $"A run holds at most {limits.MaxSeriesPerRun} series; it has {existing} and this batch adds {missing.Length}.");
                    }
                }

                await using var insert = new NpgsqlCommand("""
                    INSERT INTO "MetricSeries" ("RunId", "Name", "PointCount") SELECT $1, n, 0 FROM unnest($2::text[]) AS n
                    ON CONFLICT ("RunId", "Name") DO NOTHING RETURNING "Id", "Name"
                    """, connection, transaction);
                insert.Parameters.Add(new NpgsqlParameter { Value = runId });
                insert.Parameters.Add(new NpgsqlParameter { Value = missing });
                await using var reader = await insert.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    ids[reader.GetString(1)] = reader.GetInt64(0);
                }
            }

            // 3. The points as four parallel arrays (binary parameters, unnested by the insert): no temporary table, so
            //    no catalog rows written and dropped per batch, and no extra round trip for a COPY.
            var seriesIds = new long[points.Count];
            var pointSteps = new long[points.Count];
            var ats = new DateTime[points.Count];
            var pointValues = new double[points.Count];
            var nowUtc = now.UtcDateTime;
            for (var i = 0; i < points.Count; i++)
            {
                var p = points[i];
                seriesIds[i] = ids[p.Name!];
                pointSteps[i] = p.Step;
                ats[i] = p.At is { } at ? DateTime.UnixEpoch.AddTicks((long)Math.Round(at * TimeSpan.TicksPerSecond)) : nowUtc;
                pointValues[i] = p.Value;
            }

            // 4. One statement: insert what is new, then from only those rows the rollups and the series' counters.
            var inserted = new List<(long SeriesId, long Step, DateTime At, double Value)>(points.Count);
            if (points.Count > 0)
            {
                await using var command = new NpgsqlCommand(InsertSql, connection, transaction);
                command.Parameters.Add(new NpgsqlParameter { Value = Levels });
                command.Parameters.Add(new NpgsqlParameter { Value = runId });
                command.Parameters.Add(new NpgsqlParameter { Value = dropped });
                command.Parameters.Add(new NpgsqlParameter { Value = now });
                command.Parameters.Add(new NpgsqlParameter { Value = RunService.BytesPerPoint });
                command.Parameters.Add(new NpgsqlParameter { Value = seriesIds, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                command.Parameters.Add(new NpgsqlParameter { Value = pointSteps, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
                command.Parameters.Add(new NpgsqlParameter { Value = ats, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz });
                command.Parameters.Add(new NpgsqlParameter { Value = pointValues, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double });
                await using var reader = await command.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    inserted.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetDateTime(2), reader.GetDouble(3)));
                }
            }

            if (pointCount + inserted.Count > limits.MaxPointsPerRun)
            {
                await transaction.RollbackAsync(ct);
                return Error.Invalid("points",
                    $"A run holds at most {limits.MaxPointsPerRun} points; it has {pointCount} and this batch adds {inserted.Count}.");
            }

            // 5. A batch with no points, only a count of dropped ones: that count alone.
            if (points.Count == 0 && dropped > 0)
            {
                await using var update = new NpgsqlCommand(
                    """UPDATE "Runs" SET "Dropped" = "Dropped" + $2, "UpdatedAt" = $3 WHERE "Id" = $1""", connection, transaction);
                update.Parameters.Add(new NpgsqlParameter { Value = runId });
                update.Parameters.Add(new NpgsqlParameter { Value = dropped });
                update.Parameters.Add(new NpgsqlParameter { Value = now });
                await update.ExecuteNonQueryAsync(ct);
            }

            if (dropped > 0 || state == RunState.Finished && points.Count > 0)
            {
                await using var notify = new NpgsqlCommand("SELECT pg_notify($1, $2)", connection, transaction);
                notify.Parameters.Add(new NpgsqlParameter { Value = RunService.Channel });
                notify.Parameters.Add(new NpgsqlParameter { Value = runId.ToString() });
                await notify.ExecuteNonQueryAsync(ct);
            }

            await transaction.CommitAsync(ct);

            var nameOf = ids.ToDictionary(e => e.Value, e => e.Key);
            foreach (var p in points)
            {
                lastSteps[p.Name!] = lastSteps.TryGetValue(p.Name!, out var last) ? Math.Max(last, p.Step) : p.Step;
            }

            var series = new List<IngestedSeries>();
            var start = 0;
            for (var i = 1; i <= inserted.Count; i++)
            {
                if (i == inserted.Count || inserted[i].SeriesId != inserted[start].SeriesId)
                {
                    var n = i - start;
                    var steps = new long[n];
                    var times = new long[n];
                    var values = new double[n];
                    for (var j = 0; j < n; j++)
                    {
                        var row = inserted[start + j];
                        steps[j] = row.Step;
                        times[j] = (row.At.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
                        values[j] = row.Value;
                    }

                    series.Add(new IngestedSeries(nameOf[inserted[start].SeriesId], inserted[start].SeriesId, steps, times, values));
                    start = i;
                }
            }

            return (new IngestResponse(inserted.Count, points.Count - inserted.Count, lastSteps),
                new IngestedBatch(runId, accountId, series));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// $1: the rollup levels (the first is 6, the finest), $2 the run, $3 points dropped, $4 now, $5 bytes per point, $6–$9 the points (series, step, time, value). Non-finite values (NaN, ±Infinity; PostgreSQL's NaN equals itself) are counted in
    /// NonFinite and left out of Min, Max and Sum; a bucket with no finite value keeps Min = Max = NaN and Sum = 0 until
    /// one arrives. Last, LastStep and LastAt follow the highest step.
    /// </summary>
    private const string InsertSql = """
        WITH ins AS (
            INSERT INTO "MetricPoints" ("SeriesId", "Step", "At", "Value")
            SELECT "SeriesId", "Step", "At", "Value" FROM unnest($6::bigint[], $7::bigint[], $8::timestamptz[], $9::float8[]) AS b("SeriesId", "Step", "At", "Value")
            ON CONFLICT ("SeriesId", "Step") DO NOTHING
            RETURNING "SeriesId", "Step", "At", "Value"
        ),
        flagged AS (
            SELECT *, "Value" IN ('NaN'::float8, 'Infinity'::float8, '-Infinity'::float8) AS nf FROM ins
        ),
        -- The finest level from the rows; the coarser ones (and the series' counters) from its few groups.
        fine AS (
            SELECT "SeriesId" AS s, "Step" >> 6 AS b,
                count(*) AS c,
                count(*) FILTER (WHERE nf) AS nf,
                min("Value") FILTER (WHERE NOT nf) AS mn,
                max("Value") FILTER (WHERE NOT nf) AS mx,
                sum("Value") FILTER (WHERE NOT nf) AS sm,
                min("Step") AS fs,
                max("Step") AS ls,
                (array_agg("Value" ORDER BY "Step" DESC))[1] AS lv,
                (array_agg("At" ORDER BY "Step" DESC))[1] AS la
            FROM flagged GROUP BY 1, 2
        ),
        agg AS (
            SELECT s, 6 AS lvl, b, c, nf, mn, mx, sm, ls, lv, la FROM fine
            UNION ALL
            SELECT s, l, b >> (l - 6), sum(c)::bigint, sum(nf)::bigint, min(mn), max(mx), sum(sm), max(ls),
                (array_agg(lv ORDER BY ls DESC))[1], (array_agg(la ORDER BY ls DESC))[1]
            FROM fine CROSS JOIN unnest($1::int[]) AS l WHERE l > 6
            GROUP BY 1, 2, 3
        ),
        rollups AS (
            INSERT INTO "MetricRollups" AS r ("SeriesId", "Level", "Bucket", "Count", "NonFinite", "Min", "Max", "Sum", "LastStep", "Last", "LastAt")
            SELECT s, lvl, b, c, nf, coalesce(mn, 'NaN'::float8), coalesce(mx, 'NaN'::float8), coalesce(sm, 0), ls, lv, la FROM agg
            ON CONFLICT ("SeriesId", "Level", "Bucket") DO UPDATE SET
                "Count" = r."Count" + excluded."Count",
                "NonFinite" = r."NonFinite" + excluded."NonFinite",
                "Min" = CASE WHEN r."Count" = r."NonFinite" THEN excluded."Min"
                             WHEN excluded."Count" = excluded."NonFinite" THEN r."Min"
                             ELSE LEAST(r."Min", excluded."Min") END,
                "Max" = CASE WHEN r."Count" = r."NonFinite" THEN excluded."Max"
                             WHEN excluded."Count" = excluded."NonFinite" THEN r."Max"
                             ELSE GREATEST(r."Max", excluded."Max") END,
                "Sum" = r."Sum" + excluded."Sum",
                "LastStep" = GREATEST(r."LastStep", excluded."LastStep"),
                "Last" = CASE WHEN excluded."LastStep" > r."LastStep" THEN excluded."Last" ELSE r."Last" END,
                "LastAt" = CASE WHEN excluded."LastStep" > r."LastStep" THEN excluded."LastAt" ELSE r."LastAt" END
        ),
        ser AS (
            SELECT s, sum(c)::bigint AS c, min(fs) AS fs, max(ls) AS ls,
                (array_agg(lv ORDER BY ls DESC))[1] AS lv,
                (array_agg(la ORDER BY ls DESC))[1] AS la
            FROM fine GROUP BY 1
        ),
        counters AS (
            UPDATE "MetricSeries" m SET
                "PointCount" = m."PointCount" + ser.c,
                "FirstStep" = LEAST(m."FirstStep", ser.fs),
                "LastStep" = GREATEST(m."LastStep", ser.ls),
                "LastValue" = CASE WHEN m."LastStep" IS NULL OR ser.ls > m."LastStep" THEN ser.lv ELSE m."LastValue" END,
                "LastAt" = CASE WHEN m."LastStep" IS NULL OR ser.ls > m."LastStep" THEN ser.la ELSE m."LastAt" END
            FROM ser WHERE m."Id" = ser.s
        ),
        -- The run's counters (a finished run that gets points is open again).
        run AS (
            UPDATE "Runs" SET "PointCount" = "PointCount" + (SELECT count(*) FROM ins),
                "Bytes" = "Bytes" + $5 * (SELECT count(*) FROM ins), "Dropped" = "Dropped" + $3,
                "UpdatedAt" = $4, "State" = 'Open', "FinishedAt" = NULL
            WHERE "Id" = $2
        )
        SELECT "SeriesId", "Step", "At", "Value" FROM ins ORDER BY "SeriesId", "Step"
        """;
}
