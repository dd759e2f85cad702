using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using NpgsqlTypes;
using Platform.Core.Persistence;

namespace Platform.Core.Jobs.Scheduling;

/// <summary>What one pass wrote: jobs admitted, and waiting jobs whose reason, position or estimate changed.</summary>
public sealed record PassResult(int Admitted, int Waiting, int Changed);

/// <summary>
/// Writes a pass's decisions in one transaction of a few statements, whatever the number of jobs: waiting jobs' reason,
/// position and estimate in one <c>UPDATE … FROM unnest(…)</c> (only rows whose text or position changed, or whose
/// estimate moved by more than a minute, so an unchanged queue writes nothing); admitted jobs Queued → Starting with
/// compare-and-set on their observed state, desire and generation (a job stopped or changed meanwhile is left as it is),
/// their replicas' nodes, an "Admitted: …" event each; then <c>NOTIFY jobs '&lt;id&gt;'</c> for every row changed.
/// </summary>
public static class DecisionWriter
{
    public static async Task<PassResult> WriteAsync(PlatformDbContext db, SchedulerInput input, IReadOnlyList<JobDecision> decisions, DateTimeOffset now, CancellationToken ct)
    {
        var connection = (NpgsqlConnection)db.Database.GetDbConnection();
        var opened = connection.State != ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(ct);
        }

        try
        {
            await using var tx = await connection.BeginTransactionAsync(ct);
            var waiting = decisions.Where(d => !d.Start && input.Rows.ContainsKey(d.JobId)).ToList();
            var changed = 0;
            if (waiting.Count > 0)
            {
                await using var update = new NpgsqlCommand("""
                    WITH d AS (SELECT * FROM unnest(@ids, @reasons, @positions, @estimates) AS d(id, reason, position, estimate)),
                    u AS (
                        UPDATE "Jobs" j SET "QueueReason" = d.reason, "QueuePosition" = d.position, "EstimatedStartAt" = d.estimate, "UpdatedAt" = @now
                        FROM d
                        WHERE j."Id" = d.id AND j."Observed" = 'Queued' AND j."Desired" = 'Running'
                          AND (j."QueueReason" IS DISTINCT FROM d.reason OR j."QueuePosition" IS DISTINCT FROM d.position
                               OR (j."EstimatedStartAt" IS NULL) <> (d.estimate IS NULL)
                               OR abs(extract(epoch FROM j."EstimatedStartAt" - d.estimate)) > 60)
                        RETURNING j."Id")
                    SELECT count(pg_notify('jobs', u."Id"::text))::int FROM u
                    """, connection, tx);
                update.Parameters.AddWithValue("ids", waiting.Select(d => d.JobId).ToArray());
                update.Parameters.AddWithValue("reasons", waiting.Select(d => d.Reason ?? "waiting").ToArray());
                update.Parameters.Add(new NpgsqlParameter("positions", NpgsqlDbType.Array | NpgsqlDbType.Integer) { Value = waiting.Select(d => d.Position).ToArray() });
                update.Parameters.Add(new NpgsqlParameter("estimates", NpgsqlDbType.Array | NpgsqlDbType.TimestampTz)
                {
                    Value = waiting.Select(d => d.EstimatedStart?.UtcDateTime).ToArray(),
                });
                update.Parameters.AddWithValue("now", now);
                changed = (int)(await update.ExecuteScalarAsync(ct))!;
            }

            var admitted = decisions.Where(d => d.Start && input.Rows.ContainsKey(d.JobId)).ToList();
            var admittedCount = 0;
            if (admitted.Count > 0)
            {
                admittedCount = await AdmitAsync(connection, tx, input, admitted, now, ct);
            }

            await tx.CommitAsync(ct);
            return new PassResult(admittedCount, waiting.Count, changed);
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }

    private static async Task<int> AdmitAsync(
        NpgsqlConnection connection, NpgsqlTransaction tx, SchedulerInput input, List<JobDecision> admitted, DateTimeOffset now, CancellationToken ct)
    {
        var ids = admitted.Select(d => d.JobId).ToArray();
        var generations = admitted.Select(d => input.Rows[d.JobId].Generation).ToArray();
        var placements = admitted.SelectMany(d => d.Placements.Select(p => (d.JobId, p))).ToList();
        var messages = admitted.Select(d => "Admitted: " + string.Join("; ", d.Placements
            .GroupBy(p => p.Node, StringComparer.Ordinal)
            .Select(g => $"{string.Join(", ", g.OrderBy(p => p.Replica.Role == "trainer" ? 0 : 1).ThenBy(p => p.Replica.Index)
                .Select(p => $"{p.Replica.Role}-{p.Replica.Index}"))} on node {g.Key}"))).ToArray();

        await using var command = new NpgsqlCommand("""
            WITH a AS (
                UPDATE "Jobs" j SET "Observed" = 'Starting', "QueueReason" = NULL, "QueuePosition" = NULL, "EstimatedStartAt" = NULL,
                                    "NextCheckAt" = @now, "UpdatedAt" = @now
                FROM unnest(@ids, @generations) AS d(id, generation)
                WHERE j."Id" = d.id AND j."Generation" = d.generation AND j."Observed" = 'Queued' AND j."Desired" = 'Running'
                RETURNING j."Id"),
            r AS (
                UPDATE "JobReplicas" r SET "Node" = p.node
                FROM unnest(@pjobs, @proles, @pindexes, @pnodes) AS p(job, role, index, node)
                WHERE r."JobId" = p.job AND r."Role" = p.role AND r."Index" = p.index AND p.job IN (SELECT "Id" FROM a)
                RETURNING r."JobId"),
            e AS (
                INSERT INTO "JobEvents" ("JobId", "At", "State", "Message")
                SELECT m.id, @now, 'Starting', m.message FROM unnest(@ids, @messages) AS m(id, message)
                WHERE m.id IN (SELECT "Id" FROM a)
                RETURNING "JobId")
            SELECT count(pg_notify('jobs', a."Id"::text))::int FROM a
            """, connection, tx);
        command.Parameters.AddWithValue("ids", ids);
        command.Parameters.AddWithValue("generations", generations);
        command.Parameters.AddWithValue("pjobs", placements.Select(p => p.JobId).ToArray());
        command.Parameters.AddWithValue("proles", placements.Select(p => p.p.Replica.Role == "trainer" ? nameof(ReplicaRole.Trainer) : nameof(ReplicaRole.ParameterServer)).ToArray());
        command.Parameters.AddWithValue("pindexes", placements.Select(p => p.p.Replica.Index).ToArray());
        command.Parameters.AddWithValue("pnodes", placements.Select(p => p.p.Node).ToArray());
        command.Parameters.AddWithValue("messages", messages);
        command.Parameters.AddWithValue("now", now);
        return (int)(await command.ExecuteScalarAsync(ct))!;
    }
}
