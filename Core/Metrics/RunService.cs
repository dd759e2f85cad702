using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Core.Persistence;

namespace Platform.Core.Metrics;

/// <summary>
/// Runs: made for a job (one per job, named after it) or as an experiment outside jobs; listed, read, given graphs,
/// finished and deleted. Reading: the owner and masters of the account (<see cref="RunAccess"/>); writing: the owner
/// (any credential) or the run's own job key; anyone else is told "not found". Changes that boards show are announced
/// with <c>NOTIFY runs, '&lt;runId&gt;'</c>.
/// </summary>
public sealed class RunService(PlatformDbContext db, TimeProvider clock)
{
    public const string Channel = "runs";
    public const int NameMaxLength = 200;
    public const int SearchMaxLength = 100;
    public const int DefaultPageSize = 25;
    public const string DefaultExperimentName = "experiment";

    /// <summary>Points are estimated at this many bytes each (heap tuple, index entry and rollup share).</summary>
    public const long BytesPerPoint = 64;

    /// <summary>The job's run (found: <c>Created</c> false) or a new experiment run.</summary>
    /// <param name="keyJobId">The job of the caller's job key; null for any other credential.</param>
    /// <param name="keyAccountId">The account of the caller's workload key; null for any other credential.</param>
    public async Task<Result<(RunResponse Run, bool Created)>> CreateAsync(
        Guid userId, Guid? keyJobId, Guid? keyAccountId, CreateRunRequest request, CancellationToken ct = default)
    {
        var name = request.Name?.Trim();
        if (name is not null && !ValidName(name))
        {
            return Error.Invalid("name", $"A run's name is 1 to {NameMaxLength} characters on one line.");
        }

        var jobId = request.JobId ?? keyJobId;
        var now = clock.GetUtcNow();
        if (jobId is { } id)
        {
            var job = await db.Jobs.AsNoTracking().Where(j => j.Id == id)
                .Select(j => new
                {
                    j.Id,
                    j.AccountId,
                    j.OwnerUserId,
                    j.Name,
                    Visible = j.OwnerUserId == userId
                        || db.Memberships.Any(m => m.AccountId == j.AccountId && m.UserId == userId && m.Role == AccountRole.Master),
                })
                .FirstOrDefaultAsync(ct);
            if (job is null || !job.Visible)
            {
                return Error.NotFound("Job");
            }

            if (keyJobId is { } own && own != id)
            {
                return Error.Forbidden("A job's key logs only to its own job's run.");
            }

            if (job.OwnerUserId != userId)
            {
                return Error.Forbidden("Only the job's owner (or the job itself) logs metrics to it.");
            }

            // Several replicas may ask at once: the unique index on JobId picks one row.
            var runId = Guid.CreateVersion7();
            var inserted = await db.Database.ExecuteSqlInterpolatedAsync($"""
                INSERT INTO "Runs" ("Id", "AccountId", "OwnerUserId", "JobId", "Name", "State", "CreatedAt", "UpdatedAt", "PointCount", "Bytes", "Dropped")
                VALUES ({runId}, {job.AccountId}, {job.OwnerUserId}, {id}, {job.Name}, 'Open', {now}, {now}, 0, 0, 0)
                ON CONFLICT ("JobId") WHERE "JobId" IS NOT NULL DO NOTHING
                """, ct);
            var existing = await db.Runs.AsNoTracking().Where(r => r.JobId == id).Select(r => r.Id).FirstAsync(ct);
            if (inserted > 0)
            {
                await NotifyAsync(existing, ct);
            }

            return (await ResponseAsync(existing, ct), inserted > 0);
        }

        var accountId = keyAccountId;
        if (accountId is null)
        {
            var user = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.CurrentAccountId }).FirstAsync(ct);
            var memberships = await db.Memberships.AsNoTracking().Where(m => m.UserId == userId && m.Role != AccountRole.Viewer)
                .OrderBy(m => m.AccountId).Select(m => m.AccountId).ToListAsync(ct);
            accountId = user.CurrentAccountId is { } current && memberships.Contains(current) ? current : memberships.FirstOrDefault();
            if (accountId == Guid.Empty)
            {
                return Error.Forbidden("You are not a member of any account that may keep runs.");
            }
        }

        var run = new Run
        {
            Id = Guid.CreateVersion7(),
            AccountId = accountId.Value,
            OwnerUserId = userId,
            Name = string.IsNullOrEmpty(name) ? DefaultExperimentName : name,
            State = RunState.Open,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Runs.Add(run);
        await db.SaveChangesAsync(ct);
        db.Entry(run).State = EntityState.Detached;
        await NotifyAsync(run.Id, ct);
        return (await ResponseAsync(run.Id, ct), true);
    }

    /// <summary>
    /// The caller's runs (scope "me", the default) or those of the accounts they master ("account"); kind "job",
    /// "experiment" or "all"; state "open" or "finished"; q a part of the name; newest activity first.
    /// </summary>
    public async Task<Result<PagedResponse<RunSummary>>> ListAsync(Guid userId, string? scope, string? kind, string? state, string? q,
        int? page, int? pageSize, CancellationToken ct = default)
    {
        var errors = new FieldErrors();
        scope = string.IsNullOrWhiteSpace(scope) ? "me" : scope.Trim().ToLowerInvariant();
        if (scope is not ("me" or "account"))
        {
            errors.Add("scope", "The scope is 'me' or 'account' (the accounts you are a master of).");
        }

        kind = string.IsNullOrWhiteSpace(kind) ? "all" : kind.Trim().ToLowerInvariant();
        if (kind is not ("all" or "job" or "experiment"))
        {
            errors.Add("kind", "The kind is 'all', 'job' or 'experiment'.");
        }

        RunState? wanted = null;
        if (!string.IsNullOrWhiteSpace(state))
        {
            switch (state.Trim().ToLowerInvariant())
            {
                case "open":
                    wanted = RunState.Open;
                    break;
                case "finished":
                    wanted = RunState.Finished;
                    break;
                default:
                    errors.Add("state", "The state is 'open' or 'finished'.");
                    break;
            }
        }

        var search = q?.Trim() ?? "";
        if (search.Length > SearchMaxLength)
        {
            errors.Add("q", $"Search for at most {SearchMaxLength} characters of a name.");
        }

        if (page is < 1)
        {
            errors.Add("page", "Pages are numbered from 1.");
        }

        if (pageSize is < 1 or > Paging.MaxPageSize)
        {
            errors.Add("pageSize", $"A page holds 1 to {Paging.MaxPageSize} runs.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var runs = scope == "me"
            ? db.Runs.AsNoTracking().Where(r => r.OwnerUserId == userId)
            : db.Runs.AsNoTracking().Where(r => db.Memberships.Any(m => m.AccountId == r.AccountId && m.UserId == userId && m.Role == AccountRole.Master));
        if (kind == "job")
        {
            runs = runs.Where(r => r.JobId != null);
        }
        else if (kind == "experiment")
        {
            runs = runs.Where(r => r.JobId == null);
        }

        if (wanted is { } s)
        {
            runs = runs.Where(r => r.State == s);
        }

        if (search.Length > 0)
        {
            var pattern = "%" + search.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            runs = runs.Where(r => EF.Functions.ILike(r.Name, pattern));
        }

        var (p, size) = (page ?? 1, pageSize ?? DefaultPageSize);
        var total = await runs.CountAsync(ct);
        var items = await Summaries(runs.OrderByDescending(r => r.UpdatedAt).ThenByDescending(r => r.Id).Skip((p - 1) * size).Take(size))
            .ToListAsync(ct);
        return new PagedResponse<RunSummary>(items.Select(ToSummary).ToList(), total, p, size);
    }

    public async Task<Result<RunResponse>> GetAsync(Guid userId, Guid runId, CancellationToken ct = default) =>
        await RunAccess.MaySeeAsync(db, userId, runId, ct) ? await ResponseAsync(runId, ct) : Error.NotFound("Run");

    /// <summary>The run of a job the caller may see (the job page's final plot); not found when the job has none.</summary>
    public async Task<Result<RunResponse>> ByJobAsync(Guid userId, Guid jobId, CancellationToken ct = default)
    {
        var runId = await RunAccess.Visible(db, userId).Where(r => r.JobId == jobId).Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
        return runId is { } id ? await ResponseAsync(id, ct) : Error.NotFound("Run");
    }

    /// <summary>Adds or replaces the graph titled <see cref="GraphRequest.Title"/> (its position kept; a new one goes last).</summary>
    public async Task<Result<GraphResponse>> UpsertGraphAsync(Guid userId, Guid? keyJobId, Guid runId, GraphRequest request, CancellationToken ct = default)
    {
        var access = await WritableAsync(userId, keyJobId, runId, ct);
        if (access.Error is { } error)
        {
            return error;
        }

        var errors = new FieldErrors();
        var title = request.Title?.Trim() ?? "";
        if (!ValidName(title))
        {
            errors.Add("title", $"A graph's title is 1 to {NameMaxLength} characters on one line.");
        }

        var series = request.Series ?? [];
        if (series.Count is 0 or > 100)
        {
            errors.Add("series", "A graph groups 1 to 100 series.");
        }

        for (var i = 0; i < series.Count; i++)
        {
            if (series[i] is not { } n || !ValidName(n))
            {
                errors.Add($"series[{i}]", $"A series name is 1 to {NameMaxLength} characters, no control characters.");
            }
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var names = series.Select(n => n!).Distinct(StringComparer.Ordinal).ToList();
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockRunAsync(runId, ct);
        var graph = await db.RunGraphs.FirstOrDefaultAsync(g => g.RunId == runId && g.Title == title, ct);
        if (graph is null)
        {
            var position = await db.RunGraphs.Where(g => g.RunId == runId).MaxAsync(g => (int?)g.Position, ct) ?? -1;
            graph = new RunGraph { RunId = runId, Title = title, Series = names, Position = position + 1 };
            db.RunGraphs.Add(graph);
        }
        else
        {
            graph.Series = names;
        }

        await db.SaveChangesAsync(ct);
        await db.Runs.Where(r => r.Id == runId).ExecuteUpdateAsync(s => s.SetProperty(r => r.UpdatedAt, clock.GetUtcNow()), ct);
        await NotifyAsync(runId, ct);
        await tx.CommitAsync(ct);
        db.Entry(graph).State = EntityState.Detached;
        return new GraphResponse(graph.Title, graph.Series, graph.Position);
    }

    public async Task<Result<RunResponse>> FinishAsync(Guid userId, Guid? keyJobId, Guid runId, CancellationToken ct = default)
    {
        var access = await WritableAsync(userId, keyJobId, runId, ct);
        if (access.Error is { } error)
        {
            return error;
        }

        var now = clock.GetUtcNow();
        await db.Runs.Where(r => r.Id == runId && r.State == RunState.Open).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.State, RunState.Finished)
            .SetProperty(r => r.FinishedAt, now)
            .SetProperty(r => r.UpdatedAt, now), ct);
        await NotifyAsync(runId, ct);
        return await ResponseAsync(runId, ct);
    }

    /// <summary>Deletes the run (owner or a master): its graphs and series cascade, the series' trigger deletes points and rollups.</summary>
    public async Task<Result> DeleteAsync(Guid userId, Guid runId, CancellationToken ct = default)
    {
        if (!await RunAccess.MaySeeAsync(db, userId, runId, ct))
        {
            return Error.NotFound("Run");
        }

        await db.Runs.Where(r => r.Id == runId).ExecuteDeleteAsync(ct);
        await NotifyAsync(runId, ct);
        return Result.Success;
    }

    /// <summary>
    /// Who may write to a run: its owner (any credential) or its own job's key. A master who may only read is refused
    /// (403); anyone who may not see it gets not found.
    /// </summary>
    internal async Task<Result<Run>> WritableAsync(Guid userId, Guid? keyJobId, Guid runId, CancellationToken ct)
    {
        var run = await RunAccess.Visible(db, userId).AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, ct);
        if (run is null)
        {
            return Error.NotFound("Run");
        }

        if (keyJobId is { } job && run.JobId != job)
        {
            return Error.Forbidden("A job's key writes only to its own job's run.");
        }

        return run.OwnerUserId == userId ? run : Error.Forbidden("Only the run's owner (or its job) writes to it.");
    }

    internal Task LockRunAsync(Guid runId, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync($"""SELECT 1 FROM "Runs" WHERE "Id" = {runId} FOR UPDATE""", ct);

    internal Task NotifyAsync(Guid runId, CancellationToken ct) =>
        db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({Channel}, {runId.ToString()})", ct);

    public static bool ValidName(string name) =>
        name.Length is > 0 and <= NameMaxLength && !name.Any(char.IsControl);

    internal async Task<RunResponse> ResponseAsync(Guid runId, CancellationToken ct)
    {
        var row = await Summaries(db.Runs.AsNoTracking().Where(r => r.Id == runId)).FirstAsync(ct);
        var series = await db.MetricSeries.AsNoTracking().Where(s => s.RunId == runId).OrderBy(s => s.Id)
            .Select(s => new { s.Name, s.PointCount, s.FirstStep, s.LastStep, s.LastValue, s.LastAt }).ToListAsync(ct);
        var graphs = await db.RunGraphs.AsNoTracking().Where(g => g.RunId == runId).OrderBy(g => g.Position).ToListAsync(ct);
        var summary = ToSummary(row);
        return new RunResponse
        {
            Id = summary.Id,
            AccountId = summary.AccountId,
            OwnerUserId = summary.OwnerUserId,
            Owner = summary.Owner,
            JobId = summary.JobId,
            JobState = summary.JobState,
            Name = summary.Name,
            State = summary.State,
            CreatedAt = summary.CreatedAt,
            UpdatedAt = summary.UpdatedAt,
            FinishedAt = summary.FinishedAt,
            PointCount = summary.PointCount,
            Bytes = summary.Bytes,
            Dropped = summary.Dropped,
            SeriesCount = summary.SeriesCount,
            Series = series.Select(s => new SeriesSummary(s.Name, s.PointCount, s.FirstStep, s.LastStep, s.LastValue,
                s.LastAt?.ToUnixTimeMilliseconds())).ToList(),
            Graphs = graphs.Select(g => new GraphResponse(g.Title, g.Series, g.Position)).ToList(),
        };
    }

    private IQueryable<SummaryRow> Summaries(IQueryable<Run> runs) =>
        from r in runs
        select new SummaryRow
        {
            Run = r,
            Owner = db.Users.Where(u => u.Id == r.OwnerUserId).Select(u => u.DisplayName != "" ? u.DisplayName : u.Email).FirstOrDefault(),
            JobState = db.Jobs.Where(j => j.Id == r.JobId).Select(j => (JobObserved?)j.Observed).FirstOrDefault(),
            SeriesCount = db.MetricSeries.Count(s => s.RunId == r.Id),
        };

    private static RunSummary ToSummary(SummaryRow row) => new()
    {
        Id = row.Run.Id,
        AccountId = row.Run.AccountId,
        OwnerUserId = row.Run.OwnerUserId,
        Owner = row.Owner ?? "",
        JobId = row.Run.JobId,
        JobState = row.JobState?.ToString().ToLowerInvariant(),
        Name = row.Run.Name,
        State = row.Run.State == RunState.Open ? "open" : "finished",
        CreatedAt = row.Run.CreatedAt,
        UpdatedAt = row.Run.UpdatedAt,
        FinishedAt = row.Run.FinishedAt,
        PointCount = row.Run.PointCount,
        Bytes = row.Run.Bytes,
        Dropped = row.Run.Dropped,
        SeriesCount = row.SeriesCount,
    };

    private sealed class SummaryRow
    {
        public required Run Run { get; init; }
        public string? Owner { get; init; }
        public JobObserved? JobState { get; init; }
        public int SeriesCount { get; init; }
    }
}
