namespace Platform.AppHost.Processes;

/// <summary>
/// Restart with backoff (1, 2, 4, 8, 16 s), at most <see cref="MaxRestarts"/> within <see cref="Window"/>:
/// enough to ride out a transient fault, few enough that a service crashing on every start does not loop
/// forever hiding the failure — beyond that the AppHost stops everything and exits non-zero.
/// </summary>
internal sealed class RestartPolicy(int maxRestarts = 5, TimeSpan? window = null)
{
    private readonly Queue<DateTimeOffset> _restarts = new();

    public int MaxRestarts => maxRestarts;

    public TimeSpan Window { get; } = window ?? TimeSpan.FromMinutes(5);

    /// <summary>Records a restart and returns its delay, or null when the budget for the window is spent.</summary>
    public TimeSpan? NextDelay(DateTimeOffset now)
    {
        while (_restarts.Count > 0 && now - _restarts.Peek() >= Window)
        {
            _restarts.Dequeue();
        }

        if (_restarts.Count >= maxRestarts)
        {
            return null;
        }

        var delay = TimeSpan.FromSeconds(Math.Pow(2, _restarts.Count));
        _restarts.Enqueue(now);
        return delay;
    }

    public int RecentRestarts => _restarts.Count;
}
