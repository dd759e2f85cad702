using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Web.Tests.Live;

/// <summary>Jobs submitted through JobService, and log chunks written as Workers' shipper writes them (object, row, NOTIFY).</summary>
public sealed class JobLogWriter(LiveFixture live)
{
    public async Task<Guid> SubmitAsync(Guid userId, Guid accountId) =>
        await live.WithApiAsync(async sp =>
        {
            var submitted = await sp.GetRequiredService<JobService>().SubmitAsync(userId, new SubmitJobRequest(accountId, "live", Command: ["sh", "-c", "true"]));
            Assert.True(submitted.IsSuccess, submitted.Error?.Message);
            return submitted.Value!.Id;
        });

    /// <summary>One chunk of trainer-0's log: the object, then the row and LogBytes, then (unless told not to) NOTIFY job_logs.</summary>
    public async Task ShipAsync(Guid jobId, string text, bool notify = true)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await using (var db = DatabaseMigrator.CreateContext(live.ConnectionString))
        {
            var replica = await db.JobReplicas.SingleAsync(r => r.JobId == jobId && r.Role == ReplicaRole.Trainer && r.Index == 0);
            var seq = await db.JobLogChunks.CountAsync(c => c.JobId == jobId);
            var key = JobLogService.KeyOf(jobId, replica.Label, seq);
            await live.Api.Services.GetRequiredService<IObjectStore>().PutAsync(key, new MemoryStream(bytes), bytes.Length);
            db.JobLogChunks.Add(new JobLogChunk
            {
                JobId = jobId, Role = replica.Role, Index = 0, Seq = seq, Offset = replica.LogBytes, Bytes = bytes.Length,
                Lines = text.Count(c => c == '\n'), ObjectKey = key, FirstAt = DateTimeOffset.UtcNow, LastAt = DateTimeOffset.UtcNow,
            });
            replica.LogBytes += bytes.Length;
            replica.BackendState ??= "{}";
            await db.SaveChangesAsync();
        }

        if (notify)
        {
            await NotifyAsync(JobLogService.Channel, jobId.ToString());
        }
    }

    public async Task NotifyAsync(string channel, string payload)
    {
        await using var connection = new NpgsqlConnection(live.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
        command.Parameters.AddWithValue("channel", channel);
        command.Parameters.AddWithValue("payload", payload);
        await command.ExecuteNonQueryAsync();
    }
}
