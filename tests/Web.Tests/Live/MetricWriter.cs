using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Metrics;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>
/// Runs and points written as ingestion writes them (rows inserted with ON CONFLICT DO NOTHING in one transaction, then,
/// after the commit, every <see cref="IMetricBatchObserver"/> of the ingesting Api process told of what was inserted).
/// </summary>
public sealed class MetricWriter(string connectionString)
{
    public async Task<Guid> CreateRunAsync(Guid ownerUserId, Guid accountId, string name = "experiment")
    {
        await using var db = DatabaseMigrator.CreateContext(connectionString);
        var now = DateTimeOffset.UtcNow;
        var run = new Run
        {
            Id = Guid.CreateVersion7(), AccountId = accountId, OwnerUserId = ownerUserId, Name = name, State = RunState.Open,
            CreatedAt = now, UpdatedAt = now,
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync();
        return run.Id;
    }

    /// <summary>Steps [from, from + count) of each series, values from <paramref name="value"/> (default: step / 10), at = now.</summary>
    public Task<IngestedBatch> IngestAsync(IServiceProvider api, Guid runId, string[] series, long from, int count, Func<long, double>? value = null)
    {
        var at = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var steps = Enumerable.Range(0, count).Select(i => from + i).ToArray();
        return IngestAsync(api, runId, series.Select(name => (name, steps, steps.Select(s => value?.Invoke(s) ?? s / 10.0).ToArray(), at)).ToArray());
    }

    public async Task<IngestedBatch> IngestAsync(IServiceProvider api, Guid runId, (string Name, long[] Steps, double[] Values, long AtMs)[] points)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        var inserted = new List<IngestedSeries>();
        foreach (var (name, steps, values, atMs) in points)
        {
            await using var upsert = new NpgsqlCommand(
                """
                INSERT INTO "MetricSeries" ("RunId", "Name", "PointCount") VALUES (@run, @name, 0)
                ON CONFLICT ("RunId", "Name") DO UPDATE SET "PointCount" = "MetricSeries"."PointCount" RETURNING "Id"
                """, connection, transaction);
            upsert.Parameters.AddWithValue("run", runId);
            upsert.Parameters.AddWithValue("name", name);
            var seriesId = (long)(await upsert.ExecuteScalarAsync())!;

            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO "MetricPoints" ("SeriesId", "Step", "At", "Value")
                SELECT @series, t.s, to_timestamp(@at / 1000.0), t.v FROM unnest(@steps, @values) AS t(s, v)
                ON CONFLICT DO NOTHING RETURNING "Step", "Value"
                """, connection, transaction);
            insert.Parameters.AddWithValue("series", seriesId);
            insert.Parameters.AddWithValue("at", (double)atMs);
            insert.Parameters.Add(new NpgsqlParameter("steps", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = steps });
            insert.Parameters.Add(new NpgsqlParameter("values", NpgsqlDbType.Array | NpgsqlDbType.Double) { Value = values });
            var rows = new List<(long Step, double Value)>();
            await using (var reader = await insert.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    rows.Add((reader.GetInt64(0), reader.GetDouble(1)));
                }
            }

            rows.Sort((a, b) => a.Step.CompareTo(b.Step));
            inserted.Add(new IngestedSeries(name, seriesId, rows.Select(r => r.Step).ToArray(), rows.Select(_ => atMs).ToArray(), rows.Select(r => r.Value).ToArray()));
        }

        await using (var count = new NpgsqlCommand("""UPDATE "Runs" SET "PointCount" = "PointCount" + @n WHERE "Id" = @run""", connection, transaction))
        {
            count.Parameters.AddWithValue("n", (long)inserted.Sum(s => s.Steps.Length));
            count.Parameters.AddWithValue("run", runId);
            await count.ExecuteNonQueryAsync();
        }

        await transaction.CommitAsync();
        var accountId = Guid.Empty;
        var batch = new IngestedBatch(runId, accountId, inserted);
        foreach (var observer in api.GetServices<IMetricBatchObserver>())
        {
            observer.OnIngested(batch);
        }

        return batch;
    }
}
