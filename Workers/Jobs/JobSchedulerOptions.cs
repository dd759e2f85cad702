namespace Platform.Workers.Jobs;

/// <summary>Timings of <see cref="JobScheduler"/> (<c>Platform:Jobs:Scheduler</c>).</summary>
public sealed class JobSchedulerOptions
{
    public const string Section = "Platform:Jobs:Scheduler";

    /// <summary>A pass at least this often (NOTIFY jobs wakes it sooner); also how often a follower tries to lead.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Passes closer together than this are merged (a burst of submissions makes one pass, not hundreds).</summary>
    public TimeSpan MinimumGap { get; set; } = TimeSpan.FromMilliseconds(100);
}
