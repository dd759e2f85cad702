using System.Globalization;

namespace Platform.Core.Jobs.Scheduling;

/// <summary>
/// One scheduling decision over a snapshot, as a pure function (docs/jobs-design.md): fair share between accounts (the
/// account that used least for its weight goes next, its use growing with what it is given), priority then submission
/// time within one; admission by time budgets and concurrent limits; gang placement (all replicas first-fit decreasing
/// over nodes, or none); EASY backfill (a later job may start now only if it does not delay the first job waiting for
/// resources); and for every waiting job a plain reason, its position and an estimated start.
/// </summary>
public static class SchedulingPass
{
    /// <summary>How many CPUs one GPU weighs in fair share.</summary>
    public const double GpuWeight = 8;

    private static readonly TimeSpan UnknownDuration = TimeSpan.FromHours(1);

    /// <summary>
    /// How many waiting jobs, in order, have their start simulated; the ones after them wait with their reason and
    /// position but no estimate (the simulation is linear in the queue ahead, so all of them would be quadratic).
    /// Slurm's backfill looks at 500 by default (bf_max_job_test).
    /// </summary>
    public const int MaxEstimates = 1000;

    public static IReadOnlyList<JobDecision> Decide(SchedulerSnapshot s)
    {
        var pass = new Pass(s);
        return pass.Run();
    }

    private sealed class Pass(SchedulerSnapshot s)
    {
        private readonly Dictionary<string, Room> _free = s.Nodes.ToDictionary(n => n.Name, n => new Room(n.Cpus, n.Gpus, n.MemoryMiB), StringComparer.Ordinal);
        private readonly Dictionary<Guid, Use> _userUse = [];
        private readonly Dictionary<Guid, Use> _accountUse = [];

        // Resources given back (+) or taken (-) in the future: running jobs' ends and the holds of estimated jobs, kept in
        // time order (events at the same instant in the order they were added).
        private readonly List<(DateTimeOffset At, IReadOnlyList<Placement> Placements, int Sign)> _timeline = [];

        // How many waiting jobs had their start simulated (see MaxEstimates).
        private int _estimated;

        // The first job waiting for resources, and when: later jobs must not delay it.
        private (QueuedJob Job, DateTimeOffset At, IReadOnlyList<Placement> Hold)? _head;

        public IReadOnlyList<JobDecision> Run()
        {
            foreach (var running in s.Running)
            {
                Take(_free, running.Placements);
                Count(running.UserId, running.AccountId, running.Placements.Select(p => p.Replica).ToList(), +1);
                if (running.ExpectedEnd is { } end)
                {
                    AddEvent(end, running.Placements, +1);
                }
            }

            var decisions = new List<JobDecision>(s.Queued.Count);
            var waiting = 0;
            foreach (var job in FairOrder())
            {
                var decision = Decide(job);
                if (!decision.Start)
                {
                    decision = decision with { Position = decision.Never ? null : ++waiting };
                }

                decisions.Add(decision);
            }

            return decisions;
        }

        /// <summary>Accounts by least use for their weight, each account's jobs by priority then age.</summary>
        private IEnumerable<QueuedJob> FairOrder()
        {
            var perAccount = s.Queued.GroupBy(j => j.AccountId).ToDictionary(g => g.Key,
                g => new Queue<QueuedJob>(g.OrderByDescending(j => j.Priority).ThenBy(j => j.SubmittedAt).ThenBy(j => j.Id)));
            var turns = new PriorityQueue<Guid, (double Use, Guid Account)>();
            var use = new Dictionary<Guid, double>();
            foreach (var account in perAccount.Keys)
            {
                use[account] = s.RecentUse.GetValueOrDefault(account) / Weight(account);
                turns.Enqueue(account, (use[account], account));
            }

            while (turns.TryDequeue(out var account, out _))
            {
                var job = perAccount[account].Dequeue();
                yield return job;
                // What it is given (or would be) counts against the account for the jobs after it.
                var hours = (job.ExpectedDuration ?? UnknownDuration).TotalHours;
                use[account] += (job.Cpus + job.Gpus * GpuWeight) * hours / Weight(account);
                if (perAccount[account].Count > 0)
                {
                    turns.Enqueue(account, (use[account], account));
                }
            }
        }

        private double Weight(Guid account) => s.Weights.TryGetValue(account, out var w) && w > 0 ? w : 1;

        private JobDecision Decide(QueuedJob job)
        {
            if (Impossible(job) is { } never)
            {
                return Wait(job, never, null, never: true);
            }

            if (SpentBudget(job) is { } spent)
            {
                return Wait(job, spent.Reason, spent.Until);
            }

            if (OverLimit(job) is { } limited)
            {
                return Wait(job, limited, EarliestEnd(job));
            }

            var placements = Place(job, _free);
            if (placements is not null && !DelaysHead(job, placements))
            {
                Take(_free, placements);
                Count(job.UserId, job.AccountId, job.Replicas, +1);
                if (job.ExpectedDuration is { } runs)
                {
                    AddEvent(s.Now + runs, placements, +1);
                }

                return new JobDecision(job.Id, true, placements, null, null, s.Now);
            }

            var estimate = _estimated++ < MaxEstimates ? Estimate(job) : null;
            if (estimate is { } at)
            {
                AddEvent(at.At, at.Placements, -1);
                if (job.ExpectedDuration is { } duration)
                {
                    AddEvent(at.At + duration, at.Placements, +1);
                }

                _head ??= (job, at.At, at.Placements);
            }

            var reason = placements is not null
                ? $"waiting behind a larger job that is next in line (it starts about {Format(_head!.Value.At)})"
                : Shortage(job);
            return Wait(job, reason, estimate?.At);
        }

        private static JobDecision Wait(QueuedJob job, string reason, DateTimeOffset? estimate, bool never = false) =>
            new(job.Id, false, [], reason, null, estimate, never);

        private string? Impossible(QueuedJob job)
        {
            if (job.Replicas.Count == 0)
            {
                return "the job has no replicas";
            }

            foreach (var r in job.Replicas)
            {
                if (!s.Nodes.Any(n => n.Cpus >= r.Cpus && n.Gpus >= r.Gpus && n.MemoryMiB >= r.MemoryMiB))
                {
                    var largestGpus = s.Nodes.Count == 0 ? 0 : s.Nodes.Max(n => n.Gpus);
                    var largestCpus = s.Nodes.Count == 0 ? 0 : s.Nodes.Max(n => n.Cpus);
                    var largestMemory = s.Nodes.Count == 0 ? 0 : s.Nodes.Max(n => n.MemoryMiB);
                    return r.Gpus > largestGpus ? $"{r.Label} asks for {Plural(r.Gpus, "GPU")}; the largest node has {largestGpus}"
                        : r.Cpus > largestCpus ? $"{r.Label} asks for {Plural(r.Cpus, "CPU")}; the largest node has {largestCpus.ToString(CultureInfo.InvariantCulture)}"
                        : r.MemoryMiB > largestMemory ? $"{r.Label} asks for {r.MemoryMiB} MiB of memory; the largest node has {largestMemory} MiB"
                        : $"no node has room for {r.Label} ({Plural(r.Cpus, "CPU")}, {Plural(r.Gpus, "GPU")}, {r.MemoryMiB} MiB) at once";
                }
            }

            return null;
        }

        private (string Reason, DateTimeOffset Until)? SpentBudget(QueuedJob job)
        {
            (string, DateTimeOffset)? found = null;
            foreach (var (budgets, whose) in new[] { (s.UserBudgets.GetValueOrDefault(job.UserId), "your"), (s.AccountBudgets.GetValueOrDefault(job.AccountId), "the account's") })
            {
                foreach (var b in budgets ?? [])
                {
                    if ((b.Gpu && job.Gpus == 0) || b.UsedHours < b.LimitHours)
                    {
                        continue;
                    }

                    // The budget that frees last is the one to name: the job waits for all of them.
                    if (found is null || b.ResetsAt > found.Value.Item2)
                    {
                        var window = b.Window switch { BudgetWindow.Day => "today", BudgetWindow.Week => "this week", _ => "this month" };
                        found = ($"waiting: {whose} {(b.Gpu ? "GPU" : "CPU")}-hours for {window} are spent ({Hours(b.UsedHours)} of {Hours(b.LimitHours)} h); " +
                                 $"they reset {Format(b.ResetsAt)}", b.ResetsAt);
                    }
                }
            }

            return found;
        }

        private string? OverLimit(QueuedJob job)
        {
            foreach (var (limits, use, whose, runs) in new[]
                     {
                         (s.UserLimits.GetValueOrDefault(job.UserId), _userUse.GetValueOrDefault(job.UserId), "your", "you run"),
                         (s.AccountLimits.GetValueOrDefault(job.AccountId), _accountUse.GetValueOrDefault(job.AccountId), "the account's", "the account runs"),
                     })
            {
                if (limits is null)
                {
                    continue;
                }

                if (limits.MaxRunningJobs is { } jobs && use.Jobs + 1 > jobs)
                {
                    return $"waiting: {runs} {use.Jobs} of {whose} {jobs} allowed jobs";
                }

                if (limits.MaxGpus is { } gpus && job.Gpus > 0 && use.Gpus + job.Gpus > gpus)
                {
                    return $"waiting: this needs {Plural(job.Gpus, "GPU")}; {runs.Replace(" run", " use", StringComparison.Ordinal)} {use.Gpus} of {whose} {gpus}";
                }

                if (limits.MaxCpus is { } cpus && use.Cpus + job.Cpus > cpus + 1e-9)
                {
                    return $"waiting: this needs {Plural(job.Cpus, "CPU")}; {runs.Replace(" run", " use", StringComparison.Ordinal)} {Hours(use.Cpus)} of {whose} {Hours(cpus)}";
                }
            }

            return null;
        }

        /// <summary>For a job held by a limit: when the first of its owner's or account's running jobs is expected to end.</summary>
        private DateTimeOffset? EarliestEnd(QueuedJob job) => s.Running
            .Where(r => (r.UserId == job.UserId || r.AccountId == job.AccountId) && r.ExpectedEnd is not null)
            .Select(r => r.ExpectedEnd).Min();

        private string Shortage(QueuedJob job)
        {
            var freeGpus = _free.Values.Sum(r => r.Gpus);
            var freeCpus = _free.Values.Sum(r => r.Cpus);
            var freeMemory = _free.Values.Sum(r => r.MemoryMiB);
            var totalGpus = s.Nodes.Sum(n => n.Gpus);
            var totalCpus = s.Nodes.Sum(n => n.Cpus);
            if (job.Gpus > freeGpus)
            {
                return $"waiting for {Plural(job.Gpus - freeGpus, "GPU")} ({totalGpus - freeGpus} of {totalGpus} in use)";
            }

            if (job.Cpus > freeCpus + 1e-9)
            {
                return $"waiting for {Plural(job.Cpus - freeCpus, "CPU")} ({Hours(totalCpus - freeCpus)} of {Hours(totalCpus)} in use)";
            }

            var memory = job.Replicas.Sum(r => (long)r.MemoryMiB);
            return memory > freeMemory
                ? $"waiting for {memory - freeMemory} MiB of memory"
                : $"waiting for room to place all {job.Replicas.Count} replicas together";
        }

        /// <summary>The earliest time the job fits, replaying what is expected to be given back and taken.</summary>
        private (DateTimeOffset At, IReadOnlyList<Placement> Placements)? Estimate(QueuedJob job)
        {
            var room = _free.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            var i = 0;
            while (i < _timeline.Count && _timeline[i].At <= s.Now)
            {
                i++;
            }

            while (i < _timeline.Count)
            {
                var at = _timeline[i].At;
                for (; i < _timeline.Count && _timeline[i].At == at; i++)
                {
                    if (_timeline[i].Sign > 0)
                    {
                        Give(room, _timeline[i].Placements);
                    }
                    else
                    {
                        Take(room, _timeline[i].Placements);
                    }
                }

                if (Place(job, room) is { } placed)
                {
                    return (at, placed);
                }
            }

            return null;
        }

        private void AddEvent(DateTimeOffset at, IReadOnlyList<Placement> placements, int sign)
        {
            // After every event at or before the instant: binary search for the first later one.
            int lo = 0, hi = _timeline.Count;
            while (lo < hi)
            {
                var mid = (lo + hi) / 2;
                if (_timeline[mid].At <= at)
                {
                    lo = mid + 1;
                }
                else
                {
                    hi = mid;
                }
            }

            _timeline.Insert(lo, (at, placements, sign));
        }

        /// <summary>Whether starting this job now on these placements would push back the first job waiting for room.</summary>
        private bool DelaysHead(QueuedJob job, IReadOnlyList<Placement> placements)
        {
            if (_head is not { } head)
            {
                return false;
            }

            if (job.ExpectedDuration is { } duration && s.Now + duration <= head.At)
            {
                return false;
            }

            // Held past the head's start: the head must still fit then, with this job's resources taken (its own hold,
            // in the timeline, left out).
            var room = _free.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
            Take(room, placements);
            foreach (var (_, given, sign) in _timeline.Where(e => e.At > s.Now && e.At <= head.At && !ReferenceEquals(e.Placements, head.Hold)))
            {
                if (sign > 0)
                {
                    Give(room, given);
                }
                else
                {
                    Take(room, given);
                }
            }

            return Place(head.Job, room) is null;
        }

        private void Count(Guid user, Guid account, IReadOnlyList<ReplicaDemand> replicas, int sign)
        {
            var cpus = replicas.Sum(r => r.Cpus) * sign;
            var gpus = replicas.Sum(r => r.Gpus) * sign;
            var u = _userUse.GetValueOrDefault(user);
            _userUse[user] = new Use(u.Jobs + sign, u.Cpus + cpus, u.Gpus + gpus);
            var a = _accountUse.GetValueOrDefault(account);
            _accountUse[account] = new Use(a.Jobs + sign, a.Cpus + cpus, a.Gpus + gpus);
        }

        /// <summary>All replicas, largest first, each on the first node with room; null when one does not fit.</summary>
        private static List<Placement>? Place(QueuedJob job, Dictionary<string, Room> free)
        {
            if (free.Count == 1)
            {
                // One node (the process backend): all replicas fit together exactly when their sum fits.
                var (name, room) = free.First();
                double cpus = 0;
                int gpus = 0;
                long memory = 0;
                foreach (var r in job.Replicas)
                {
                    cpus += r.Cpus;
                    gpus += r.Gpus;
                    memory += r.MemoryMiB;
                }

                return room.Cpus + 1e-9 >= cpus && room.Gpus >= gpus && room.MemoryMiB >= memory
                    ? job.Replicas.Select(r => new Placement(r, name)).ToList()
                    : null;
            }

            var trial = new Dictionary<string, Room>(free, StringComparer.Ordinal);
            var placements = new List<Placement>(job.Replicas.Count);
            foreach (var replica in job.Replicas.OrderByDescending(r => r.Gpus).ThenByDescending(r => r.Cpus).ThenByDescending(r => r.MemoryMiB))
            {
                string? chosen = null;
                foreach (var (node, room) in trial.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    if (room.Cpus + 1e-9 >= replica.Cpus && room.Gpus >= replica.Gpus && room.MemoryMiB >= replica.MemoryMiB)
                    {
                        chosen = node;
                        break;
                    }
                }

                if (chosen is null)
                {
                    return null;
                }

                trial[chosen] = trial[chosen].Minus(replica);
                placements.Add(new Placement(replica, chosen));
            }

            return placements;
        }

        private static void Take(Dictionary<string, Room> room, IReadOnlyList<Placement> placements)
        {
            foreach (var p in placements.Where(p => room.ContainsKey(p.Node)))
            {
                room[p.Node] = room[p.Node].Minus(p.Replica);
            }
        }

        private static void Give(Dictionary<string, Room> room, IReadOnlyList<Placement> placements)
        {
            foreach (var p in placements.Where(p => room.ContainsKey(p.Node)))
            {
                room[p.Node] = room[p.Node].Plus(p.Replica);
            }
        }

        private static string Plural(double n, string what) =>
            $"{n.ToString("0.##", CultureInfo.InvariantCulture)} {what}{(Math.Abs(n - 1) < 1e-9 ? "" : "s")}";

        private static string Hours(double h) => h.ToString("0.#", CultureInfo.InvariantCulture);

        private static string Format(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
    }

    private readonly record struct Room(double Cpus, int Gpus, long MemoryMiB)
    {
        public Room Minus(ReplicaDemand r) => new(Cpus - r.Cpus, Gpus - r.Gpus, MemoryMiB - r.MemoryMiB);

        public Room Plus(ReplicaDemand r) => new(Cpus + r.Cpus, Gpus + r.Gpus, MemoryMiB + r.MemoryMiB);
    }

    private readonly record struct Use(int Jobs, double Cpus, int Gpus);
}
