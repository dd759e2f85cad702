using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Core.Jobs;

/// <summary>One chunk of a replica's log: its sequence number, where it starts in the replica's output, and its text.</summary>
public sealed record JobLogChunkResponse(int Seq, long Offset, string Text);

/// <summary>
/// A page of one replica's log. <see cref="Next"/> is the sequence number to pass as <c>after</c> for what follows (-1:
/// nothing yet); <see cref="Finished"/> says the replica ended and everything it wrote is shipped and returned.
/// </summary>
public sealed record JobLogsResponse(string Replica, IReadOnlyList<string> Replicas, IReadOnlyList<JobLogChunkResponse> Chunks, int Next, bool Finished);

/// <summary>What a download streams: the file name and the chunks' objects in order.</summary>
public sealed record JobLogDownload(string FileName, IReadOnlyList<string> Keys);

/// <summary>
/// Job logs as the owner and the masters of the job's account read them (anyone else: not found, as for the job): the
/// last lines, what follows a chunk (waiting for it up to 30 s), the whole log as a stream. The chunks are written by
/// Workers' log shipper; this reads the index (<c>JobLogChunks</c>) and the objects.
/// </summary>
public sealed class JobLogService(PlatformDbContext db, JobService jobs, IObjectStore store, TimeProvider clock)
{
    /// <summary>The channel the shipper notifies with the job's id after each chunk.</summary>
    public const string Channel = "job_logs";

    public const int DefaultTail = 500;
    public const int MaxTail = 10_000;
    public const int MaxWaitSeconds = 30;

    /// <summary>About the most text one page carries; a client asks again with <c>after</c> for the rest.</summary>
    public const int MaxPageBytes = 4 * 1024 * 1024;

    private static readonly TimeSpan WaitPoll = TimeSpan.FromMilliseconds(250);

    public static string KeyOf(Guid jobId, string replica, int seq) => $"logs/jobs/{jobId}/{replica}/{seq:D8}";

    public static string PrefixOf(Guid jobId) => $"logs/jobs/{jobId}/";

    /// <summary>Whether the user may read the job (and so its logs): its owner or a master of its account.</summary>
    public async Task<bool> MaySeeAsync(Guid userId, Guid jobId, CancellationToken ct = default) =>
        await jobs.FindAsync(userId, jobId, ct) is not null;

    /// <summary>
    /// Without <paramref name="after"/>: the last <paramref name="tail"/> lines (default 500). With it: the chunks after
    /// that sequence number, in order (-1: from the start). When there are none yet and the replica has not finished,
    /// waits up to <paramref name="wait"/> seconds for some.
    /// </summary>
    public async Task<Result<JobLogsResponse>> ReadAsync(
        Guid userId, Guid jobId, string? replica, int? after, int? tail, int? wait, CancellationToken ct = default)
    {
        var invalid = new Dictionary<string, string[]>();
        if (tail is < 1 or > MaxTail)
        {
            invalid["tail"] = [$"tail is a number of lines from 1 to {MaxTail}."];
        }

        if (wait is < 0 or > MaxWaitSeconds)
        {
            invalid["wait"] = [$"wait is a number of seconds from 0 to {MaxWaitSeconds}."];
        }

        if (after is < -1)
        {
            invalid["after"] = ["after is a chunk's sequence number (seq), or -1 for the start."];
        }

        if (invalid.Count > 0)
        {
            return Error.Invalid(invalid);
        }

        if (await jobs.FindAsync(userId, jobId, ct) is null)
        {
            return Error.NotFound("Job");
        }

        var chosen = await ChooseAsync(jobId, replica, ct);
        if (!chosen.IsSuccess)
        {
            return chosen.Error!;
        }

        var (label, labels) = chosen.Value;
        var deadline = clock.GetUtcNow() + TimeSpan.FromSeconds(wait ?? 0);
        while (true)
        {
            var page = after is { } from ? await AfterAsync(jobId, label, from, ct) : await TailAsync(jobId, label, tail ?? DefaultTail, ct);
            var finished = await FinishedAsync(jobId, label, ct) && !await db.JobLogChunks.AnyAsync(
                c => c.JobId == jobId && c.Role == label.Role && c.Index == label.Index && c.Seq > page.Next, ct);
            if (page.Chunks.Count > 0 || finished || clock.GetUtcNow() + WaitPoll > deadline)
            {
                return new JobLogsResponse(label.Label, labels, page.Chunks, page.Next, finished);
            }

            await Task.Delay(WaitPoll, clock, ct);
        }
    }

    /// <summary>The replica's whole log, for streaming with <see cref="WriteAsync"/>.</summary>
    public async Task<Result<JobLogDownload>> DownloadAsync(Guid userId, Guid jobId, string? replica, CancellationToken ct = default)
    {
        if (await jobs.FindAsync(userId, jobId, ct) is not { } found)
        {
            return Error.NotFound("Job");
        }

        var chosen = await ChooseAsync(jobId, replica, ct);
        if (!chosen.IsSuccess)
        {
            return chosen.Error!;
        }

        var label = chosen.Value.Label;
        var keys = await db.JobLogChunks.AsNoTracking()
            .Where(c => c.JobId == jobId && c.Role == label.Role && c.Index == label.Index)
            .OrderBy(c => c.Seq).Select(c => c.ObjectKey).ToListAsync(ct);
        var safeName = new string(found.Job.Name.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '-').ToArray()).Trim('-', '.');
        return new JobLogDownload($"{(safeName.Length > 0 ? safeName : "job")}-{label.Label}.log", keys);
    }

    /// <summary>Copies the chunks' objects to <paramref name="output"/> one after the other (never the whole log in memory).</summary>
    public async Task WriteAsync(JobLogDownload download, Stream output, CancellationToken ct = default)
    {
        foreach (var key in download.Keys)
        {
            await using var reader = await store.OpenReadAsync(key, ct: ct);
            if (reader is not null)
            {
                await reader.Content.CopyToAsync(output, ct);
            }
        }
    }

    /// <summary>Removes a job's log objects (its rows go with the job's, by cascade); for whoever deletes or cleans jobs.</summary>
    public async Task DeleteLogsAsync(Guid jobId, CancellationToken ct = default)
    {
        var keys = new List<string>();
        await foreach (var info in store.ListAsync(PrefixOf(jobId), ct))
        {
            keys.Add(info.Key);
        }

        if (keys.Count > 0)
        {
            await store.DeleteManyAsync(keys, ct);
        }
    }

    /// <summary>The chunks with sequence numbers above <paramref name="after"/> (and their text), for the live relay.</summary>
    public async Task<IReadOnlyList<(string Replica, JobLogChunkResponse Chunk)>> ChunksAfterAsync(
        Guid jobId, IReadOnlyDictionary<string, int> after, int max, CancellationToken ct = default)
    {
        var rows = await db.JobLogChunks.AsNoTracking().Where(c => c.JobId == jobId).OrderBy(c => c.Role).ThenBy(c => c.Index).ThenBy(c => c.Seq)
            .Select(c => new { c.Role, c.Index, c.Seq, c.Offset, c.ObjectKey }).ToListAsync(ct);
        var result = new List<(string, JobLogChunkResponse)>();
        foreach (var row in rows)
        {
            var label = new JobReplica { Role = row.Role, Index = row.Index }.Label;
            if (row.Seq > after.GetValueOrDefault(label, -1) && result.Count < max)
            {
                result.Add((label, new JobLogChunkResponse(row.Seq, row.Offset, await TextOfAsync(row.ObjectKey, ct))));
            }
        }

        return result;
    }

    /// <summary>The newest sequence number of each replica's log (replicas with none are left out).</summary>
    public async Task<Dictionary<string, int>> LastSeqsAsync(Guid jobId, CancellationToken ct = default)
    {
        var rows = await db.JobLogChunks.Where(c => c.JobId == jobId).GroupBy(c => new { c.Role, c.Index })
            .Select(g => new { g.Key.Role, g.Key.Index, Seq = g.Max(c => c.Seq) }).ToListAsync(ct);
        return rows.ToDictionary(r => new JobReplica { Role = r.Role, Index = r.Index }.Label, r => r.Seq);
    }

    private sealed record Page(IReadOnlyList<JobLogChunkResponse> Chunks, int Next);

    private async Task<Page> AfterAsync(Guid jobId, ReplicaLabel label, int after, CancellationToken ct)
    {
        var rows = await db.JobLogChunks.AsNoTracking()
            .Where(c => c.JobId == jobId && c.Role == label.Role && c.Index == label.Index && c.Seq > after)
            .OrderBy(c => c.Seq).Take(64).Select(c => new { c.Seq, c.Offset, c.ObjectKey }).ToListAsync(ct);
        var chunks = new List<JobLogChunkResponse>();
        var bytes = 0;
        foreach (var row in rows)
        {
            var text = await TextOfAsync(row.ObjectKey, ct);
            if (chunks.Count > 0 && bytes + text.Length > MaxPageBytes)
            {
                break;
            }

            bytes += text.Length;
            chunks.Add(new JobLogChunkResponse(row.Seq, row.Offset, text));
        }

        return new Page(chunks, chunks.Count > 0 ? chunks[^1].Seq : after);
    }

    private async Task<Page> TailAsync(Guid jobId, ReplicaLabel label, int lines, CancellationToken ct)
    {
        // Newest first until the chunks hold enough lines, then the first one trimmed to what is asked.
        var rows = await db.JobLogChunks.AsNoTracking()
            .Where(c => c.JobId == jobId && c.Role == label.Role && c.Index == label.Index)
            .OrderByDescending(c => c.Seq).Select(c => new { c.Seq, c.Offset, c.Lines, c.Bytes, c.ObjectKey }).Take(lines + 1).ToListAsync(ct);
        var picked = new List<JobLogChunkResponse>();
        var count = 0;
        var bytes = 0;
        foreach (var row in rows)
        {
            if (count >= lines || (picked.Count > 0 && bytes + row.Bytes > MaxPageBytes))
            {
                break;
            }

            var text = await TextOfAsync(row.ObjectKey, ct);
            picked.Add(new JobLogChunkResponse(row.Seq, row.Offset, text));
            count += row.Lines;
            bytes += row.Bytes;
        }

        picked.Reverse();
        if (count > lines && picked.Count > 0)
        {
            var first = picked[0];
            var drop = SkipLines(first.Text, count - lines);
            picked[0] = first with { Offset = first.Offset + Encoding.UTF8.GetByteCount(first.Text.AsSpan(0, drop)), Text = first.Text[drop..] };
        }

        return new Page(picked, rows.Count > 0 ? rows[0].Seq : -1);
    }

    /// <summary>Where the text after its first <paramref name="lines"/> lines starts.</summary>
    private static int SkipLines(string text, int lines)
    {
        var at = 0;
        for (var i = 0; i < lines && at < text.Length; i++)
        {
            var newline = text.IndexOf('\n', at);
            at = newline < 0 ? text.Length : newline + 1;
        }

        return at;
    }

    private async Task<string> TextOfAsync(string key, CancellationToken ct)
    {
        await using var reader = await store.OpenReadAsync(key, ct: ct);
        if (reader is null)
        {
            return "";
        }

        using var text = new StreamReader(reader.Content, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: false);
        return await text.ReadToEndAsync(ct);
    }

    /// <summary>The replica ended and the shipper is done with it, or it never started and never will (its job ended).</summary>
    private async Task<bool> FinishedAsync(Guid jobId, ReplicaLabel label, CancellationToken ct)
    {
        var row = await db.JobReplicas.AsNoTracking().Where(r => r.JobId == jobId && r.Role == label.Role && r.Index == label.Index)
            .Select(r => new { r.LogState, Started = r.BackendState != null }).SingleAsync(ct);
        if (row.LogState == JobLogState.Complete)
        {
            return true;
        }

        var observed = await db.Jobs.Where(j => j.Id == jobId).Select(j => j.Observed).SingleAsync(ct);
        return !row.Started && JobService.IsFinished(observed);
    }

    private sealed record ReplicaLabel(ReplicaRole Role, int Index, string Label);

    private async Task<Result<(ReplicaLabel Label, IReadOnlyList<string> Labels)>> ChooseAsync(Guid jobId, string? replica, CancellationToken ct)
    {
        var all = (await db.JobReplicas.AsNoTracking().Where(r => r.JobId == jobId).OrderBy(r => r.Role).ThenBy(r => r.Index)
            .Select(r => new { r.Role, r.Index }).ToListAsync(ct))
            .Select(r => new ReplicaLabel(r.Role, r.Index, new JobReplica { Role = r.Role, Index = r.Index }.Label)).ToList();
        var labels = all.Select(r => r.Label).ToList();
        if (all.Count == 0)
        {
            return Error.NotFound("Job");
        }

        if (string.IsNullOrWhiteSpace(replica))
        {
            return (all[0], labels);
        }

        return all.FirstOrDefault(r => r.Label == replica.Trim()) is { } found
            ? (found, labels)
            : Error.Invalid("replica", $"The job has no replica '{Truncate(replica)}'; it has {string.Join(", ", labels)}.");
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
