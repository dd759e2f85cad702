using System.Buffers.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;

namespace Platform.Core.Jobs;

/// <summary>
/// What the job list asks for. <see cref="Status"/>: one state or several, comma-separated (queued, starting, running,
/// stopping, succeeded, failed, stopped; "active" = queued…stopping, "finished" = the three ends). <see cref="From"/> and
/// <see cref="To"/> bound the submission time ([from, to)). <see cref="Q"/>: a case-insensitive part of the name.
/// <see cref="Scope"/>: "mine" (default) or "account" (masters: every member's jobs in the accounts they master;
/// <see cref="AccountId"/> narrows either to one account). <see cref="Sort"/>: "submitted" (default) or "name";
/// <see cref="Order"/>: "desc" (default for submitted) or "asc" (default for name). <see cref="After"/> continues after a
/// page (its <c>next</c>), <see cref="Before"/> goes back (its <c>prev</c>); both are opaque.
/// </summary>
public sealed record ListJobsQuery(
    string? Status = null,
    DateTimeOffset? From = null,
    DateTimeOffset? To = null,
    string? Q = null,
    string? Scope = null,
    Guid? AccountId = null,
    string? Sort = null,
    string? Order = null,
    string? After = null,
    string? Before = null,
    int? PageSize = null);

/// <summary>
/// A keyset page: <see cref="Next"/> is the cursor for the following page (null on the last), <see cref="Prev"/> for the
/// one before (null on the first). <see cref="Total"/> is given only when it costs nothing (the whole result is on this
/// first page); otherwise <see cref="More"/> says whether anything follows.
/// </summary>
public sealed record JobListResponse(IReadOnlyList<JobResponse> Items, string? Next, string? Prev, bool More, int? Total);

public sealed partial class JobService
{
    public const int DefaultListPageSize = 50;
    public const int NameSearchMaxLength = 100;

    private static readonly Dictionary<string, JobObserved[]> StatusGroups = new(StringComparer.OrdinalIgnoreCase)
    {
        ["active"] = [JobObserved.Queued, JobObserved.Starting, JobObserved.Running, JobObserved.Stopping],
        ["finished"] = [JobObserved.Succeeded, JobObserved.Failed, JobObserved.Stopped],
    };

    /// <summary>
    /// The caller's jobs (or, scope account, those of the accounts they master), filtered, sorted and keyset-paged: a
    /// page costs one index range scan whatever its depth, and rows added meanwhile never shift a later page.
    /// </summary>
    public async Task<Result<JobListResponse>> ListAsync(Guid userId, ListJobsQuery query, CancellationToken ct = default)
    {
        var errors = new FieldErrors();
        var states = ParseStates(query.Status, errors);
        if (query.From is { } from && query.To is { } to && to <= from)
        {
            errors.Add("to", "The end of the time range comes after its start.");
        }

        var search = query.Q?.Trim() ?? "";
        if (search.Length > NameSearchMaxLength)
        {
            errors.Add("q", $"Search for at most {NameSearchMaxLength} characters of a name.");
        }

        var scope = string.IsNullOrWhiteSpace(query.Scope) ? "mine" : query.Scope.Trim().ToLowerInvariant();
        if (scope is not ("mine" or "account"))
        {
            errors.Add("scope", "The scope is 'mine' or 'account' (the accounts you are a master of).");
        }

        var byName = false;
        if (!string.IsNullOrWhiteSpace(query.Sort))
        {
            switch (query.Sort.Trim().ToLowerInvariant())
            {
                case "submitted":
                    break;
                case "name":
                    byName = true;
                    break;
                default:
                    errors.Add("sort", "Sort by 'submitted' or 'name'.");
                    break;
            }
        }

        var descending = !byName;
        if (!string.IsNullOrWhiteSpace(query.Order))
        {
            switch (query.Order.Trim().ToLowerInvariant())
            {
                case "desc":
                    descending = true;
                    break;
                case "asc":
                    descending = false;
                    break;
                default:
                    errors.Add("order", "The order is 'desc' or 'asc'.");
                    break;
            }
        }

        var size = query.PageSize ?? DefaultListPageSize;
        if (size is < 1 or > Paging.MaxPageSize)
        {
            errors.Add("pageSize", $"A page holds 1 to {Paging.MaxPageSize} jobs.");
        }

        if (query.After is { Length: > 0 } && query.Before is { Length: > 0 })
        {
            errors.Add("before", "Give 'after' or 'before', not both.");
        }

        var sortKey = byName ? "name" : "submitted";
        var cursorText = query.After is { Length: > 0 } ? query.After : query.Before;
        var cursorField = query.After is { Length: > 0 } ? "after" : "before";
        ListCursor? cursor = null;
        if (cursorText is { Length: > 0 } && (cursor = ListCursor.Parse(cursorText)) is null)
        {
            errors.Add(cursorField, "This cursor is not one the list gave; start again from the first page.");
        }
        else if (cursor is not null && (cursor.Sort != sortKey || cursor.Descending != descending))
        {
            errors.Add(cursorField, "This cursor belongs to another sort order; start again from the first page.");
        }

        // Which accounts: those the caller belongs to (mine) or masters (account), or the one asked for among them.
        var roles = scope == "account" ? new[] { AccountRole.Master } : [AccountRole.Member, AccountRole.Master];
        var accountIds = await db.Memberships.AsNoTracking()
            .Where(m => m.UserId == userId && roles.Contains(m.Role)).Select(m => m.AccountId).ToListAsync(ct);
        if (query.AccountId is { } accountId)
        {
            if (!accountIds.Contains(accountId))
            {
                errors.Add("accountId", scope == "account" ? "You are not a master of this account." : "You are not a member of this account.");
            }

            accountIds = [accountId];
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var jobs = db.Jobs.AsNoTracking();
        if (scope == "mine")
        {
            jobs = jobs.Where(j => j.OwnerUserId == userId && accountIds.Contains(j.AccountId));
        }

        if (states is not null)
        {
            jobs = jobs.Where(j => states.Contains(j.Observed));
        }

        if (query.From is { } f)
        {
            jobs = jobs.Where(j => j.SubmittedAt >= f.ToUniversalTime());
        }

        if (query.To is { } t)
        {
            jobs = jobs.Where(j => j.SubmittedAt < t.ToUniversalTime());
        }

        if (search.Length > 0)
        {
            var pattern = "%" + search.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            jobs = jobs.Where(j => EF.Functions.ILike(j.Name, pattern, "\\"));
        }

        // Going back (before) reads the rows just before the cursor in the opposite order, then turns them round.
        var backwards = query.Before is { Length: > 0 };
        var ascending = descending == backwards;
        jobs = (byName, cursor, ascending) switch
        {
            (false, { } c, false) => jobs.Where(j => EF.Functions.LessThan(ValueTuple.Create(j.SubmittedAt, j.Id), ValueTuple.Create(c.At, c.Id))),
            (false, { } c, true) => jobs.Where(j => EF.Functions.GreaterThan(ValueTuple.Create(j.SubmittedAt, j.Id), ValueTuple.Create(c.At, c.Id))),
            (true, { } c, false) => jobs.Where(j => EF.Functions.LessThan(ValueTuple.Create(j.Name, j.Id), ValueTuple.Create(c.Name!, c.Id))),
            (true, { } c, true) => jobs.Where(j => EF.Functions.GreaterThan(ValueTuple.Create(j.Name, j.Id), ValueTuple.Create(c.Name!, c.Id))),
            _ => jobs,
        };
        jobs = (byName, ascending) switch
        {
            (false, true) => jobs.OrderBy(j => j.SubmittedAt).ThenBy(j => j.Id),
            (false, false) => jobs.OrderByDescending(j => j.SubmittedAt).ThenByDescending(j => j.Id),
            (true, true) => jobs.OrderBy(j => j.Name).ThenBy(j => j.Id),
            (true, false) => jobs.OrderByDescending(j => j.Name).ThenByDescending(j => j.Id),
        };

        var rows = await TakeAsync(jobs, scope == "mine" ? null : accountIds, byName, ascending, size + 1, ct);
        var more = rows.Count > size;
        rows = rows.Take(size).ToList();
        if (backwards)
        {
            rows.Reverse();
        }

        var ids = rows.Select(j => j.Id).ToList();
        var replicas = ids.Count == 0 ? [] : await db.JobReplicas.AsNoTracking().Where(r => ids.Contains(r.JobId)).ToListAsync(ct);
        var byJob = replicas.ToLookup(r => r.JobId);
        var items = rows.Select(j => ToResponse(j, byJob[j.Id].ToList(), j.OwnerUserId == userId ? "owner" : "master")).ToList();

        // Forward: a next page exists when more rows came; a previous one when we came from a cursor. Backwards: mirrored.
        var hasNext = backwards || more;
        var hasPrev = backwards ? more : cursor is not null;
        string? CursorOf(Job j) => new ListCursor(sortKey, descending, j.SubmittedAt, j.Id, byName ? j.Name : null).Format();
        var next = hasNext && rows.Count > 0 ? CursorOf(rows[^1]) : null;
        var prev = hasPrev && rows.Count > 0 ? CursorOf(rows[0]) : null;
        int? total = cursor is null && !more ? rows.Count : null;
        return new JobListResponse(items, next, prev, next is not null, total);
    }

    /// <summary>
    /// The first <paramref name="take"/> rows of the sorted query, in the accounts given (null: the query already says).
    /// One account is an equality, so PostgreSQL walks the (AccountId, SubmittedAt, Id) index in order; an IN list would
    /// make it read every row of the accounts and sort. Several accounts by time: one walk each, merged here (uuid order
    /// is the order of the lower-case text). By name (a collation C# does not share) several accounts take the IN list.
    /// </summary>
    private static async Task<List<Job>> TakeAsync(
        IQueryable<Job> jobs, List<Guid>? accountIds, bool byName, bool ascending, int take, CancellationToken ct)
    {
        if (accountIds is null)
        {
            return await jobs.Take(take).ToListAsync(ct);
        }

        if (accountIds.Count == 1)
        {
            var accountId = accountIds[0];
            return await jobs.Where(j => j.AccountId == accountId).Take(take).ToListAsync(ct);
        }

        if (byName || accountIds.Count is 0 or > 20)
        {
            return await jobs.Where(j => accountIds.Contains(j.AccountId)).Take(take).ToListAsync(ct);
        }

        var merged = new List<Job>();
        foreach (var accountId in accountIds)
        {
            merged.AddRange(await jobs.Where(j => j.AccountId == accountId).Take(take).ToListAsync(ct));
        }

        var sorted = ascending
            ? merged.OrderBy(j => j.SubmittedAt).ThenBy(j => j.Id.ToString(), StringComparer.Ordinal)
            : merged.OrderByDescending(j => j.SubmittedAt).ThenByDescending(j => j.Id.ToString(), StringComparer.Ordinal);
        return sorted.Take(take).ToList();
    }

    private static JobObserved[]? ParseStates(string? status, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(status))
        {
            return null;
        }

        var states = new HashSet<JobObserved>();
        foreach (var part in status.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (StatusGroups.TryGetValue(part, out var group))
            {
                states.UnionWith(group);
            }
            else if (Enum.TryParse<JobObserved>(part, ignoreCase: true, out var state) && Enum.IsDefined(state) && !int.TryParse(part, out _))
            {
                states.Add(state);
            }
            else
            {
                errors.Add("status", $"'{(part.Length > 40 ? part[..40] + "…" : part)}' is not a job state: use queued, starting, running, stopping, succeeded, failed, stopped, active or finished.");
                return null;
            }
        }

        return states.Count == 0 ? null : [.. states];
    }

    /// <summary>Where a page ended: the sort it belongs to and the last row's sort key. base64url JSON, opaque to clients.</summary>
    private sealed record ListCursor(string Sort, bool Descending, DateTimeOffset At, Guid Id, string? Name)
    {
        public string Format() => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(this));

        public static ListCursor? Parse(string text)
        {
            try
            {
                if (text.Length > 1000 || JsonSerializer.Deserialize<ListCursor>(Base64Url.DecodeFromChars(text)) is not { } cursor)
                {
                    return null;
                }

                return cursor.Sort is "submitted" or "name" && (cursor.Sort != "name" || cursor.Name is not null) ? cursor with { At = cursor.At.ToUniversalTime() } : null;
            }
            catch (Exception e) when (e is FormatException or JsonException)
            {
                return null;
            }
        }
    }
}
