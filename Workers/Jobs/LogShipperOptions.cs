namespace Platform.Workers.Jobs;

/// <summary>Timings and sizes of <see cref="LogShipper"/> (<c>Platform:Jobs:LogShipper</c>; the cap is <c>Platform:Jobs:MaxLogBytes</c>).</summary>
public sealed class LogShipperOptions
{
    /// <summary>How often every followed replica is looked at; a chunk is shipped at the latest this long after a line ends.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most one chunk holds; a replica with more waiting is shipped chunk after chunk in the same pass.</summary>
    public int ChunkBytes { get; set; } = 256 * 1024;

    /// <summary>A line longer than this is shipped in pieces of this size instead of waiting for its end.</summary>
    public int MaxLineBytes { get; set; } = 64 * 1024;

    /// <summary>How long an unfinished line (a progress bar without a newline) waits before it is shipped as it is.</summary>
    public TimeSpan PartialLineDelay { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>The most of one replica's output kept; past it one marker chunk says so and shipping stops.</summary>
    public long MaxLogBytes { get; set; } = 1L << 30;

    /// <summary>Chunks one replica may ship in one pass before the next replica's turn.</summary>
    public int MaxChunksPerPass { get; set; } = 16;

    /// <summary>Replicas looked at per pass (the oldest first).</summary>
    public int BatchSize { get; set; } = 500;
}
