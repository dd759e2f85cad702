namespace Platform.Core.Metrics;

/// <summary>Open while something logs to it; Finished once the SDK said so (<c>finish()</c>, the end of the script) or its job ended.</summary>
public enum RunState
{
    Open,
    Finished,
}

/// <summary>
/// One training board: the metrics a job (<see cref="JobId"/>) or an experiment outside jobs (a notebook, a script)
/// logged. A job has at most one run, made on its first metric. <see cref="Bytes"/> estimates what its points take and
/// counts towards the account's storage; <see cref="Dropped"/> is what the SDK reported it had to drop while the
/// platform was unreachable, shown on the board, never silently lost.
/// </summary>
public sealed class Run
{
    public Guid Id { get; set; }
    public Guid AccountId { get; set; }
    public Guid OwnerUserId { get; set; }
    public Guid? JobId { get; set; }
    public string Name { get; set; } = "";
    public RunState State { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public long PointCount { get; set; }
    public long Bytes { get; set; }
    public long Dropped { get; set; }
}

/// <summary>A named graph of a run (<c>draw_board(*metrics, title=...)</c>): the series it groups, in board order.</summary>
public sealed class RunGraph
{
    public Guid RunId { get; set; }
    public string Title { get; set; } = "";
    public List<string> Series { get; set; } = [];
    public int Position { get; set; }
}

/// <summary>One metric of a run, with counters kept by ingestion so lists and boards never count points.</summary>
public sealed class MetricSeries
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public string Name { get; set; } = "";
    public long PointCount { get; set; }
    public long? FirstStep { get; set; }
    public long? LastStep { get; set; }
    public double? LastValue { get; set; }
    public DateTimeOffset? LastAt { get; set; }
}

/// <summary>
/// One logged value. The key (SeriesId, Step) makes a retried batch insert nothing twice and is the index that serves
/// "series X from step S". <see cref="Value"/> may be NaN or ±Infinity (valid float8). No foreign key: it would cost a
/// lookup per point on the hottest insert; a statement trigger on MetricSeries deletes the points of deleted series.
/// </summary>
public sealed class MetricPoint
{
    public long SeriesId { get; set; }
    public long Step { get; set; }
    public DateTimeOffset At { get; set; }
    public double Value { get; set; }
}

/// <summary>
/// A downsampled summary of a series: bucket <see cref="Bucket"/> of width 2^<see cref="Level"/> steps (levels 6, 9, 12
/// and 15), over its finite values (<see cref="NonFinite"/> counts the NaN and infinities), upserted with each batch, so
/// a 1,000,000-point series opens from a few thousand rows.
/// </summary>
public sealed class MetricRollup
{
    public long SeriesId { get; set; }
    public int Level { get; set; }
    public long Bucket { get; set; }
    public long Count { get; set; }
    public long NonFinite { get; set; }
    public double Min { get; set; }
    public double Max { get; set; }
    public double Sum { get; set; }
    public long LastStep { get; set; }
    public double Last { get; set; }
    public DateTimeOffset LastAt { get; set; }
}
