namespace Platform.Core.Metrics;

/// <summary>
/// The points of one series that an ingested batch actually inserted (a retried point is not among them), in step
/// order, as parallel arrays: <see cref="AtMs"/> is the wall time the SDK took, in Unix milliseconds.
/// </summary>
public sealed record IngestedSeries(string Name, long SeriesId, long[] Steps, long[] AtMs, double[] Values);

/// <summary>What one committed batch added to a run, for the live boards.</summary>
public sealed record IngestedBatch(Guid RunId, Guid AccountId, IReadOnlyList<IngestedSeries> Series);

/// <summary>
/// Told of every committed batch by the process that ingested it (after the commit, never inside it). The live relay
/// implements it (fan-out to the run's SignalR group, and NOTIFY for other Api processes); any number may be
/// registered, and one must return at once: ingestion does not wait for boards.
/// </summary>
public interface IMetricBatchObserver
{
    void OnIngested(IngestedBatch batch);
}
