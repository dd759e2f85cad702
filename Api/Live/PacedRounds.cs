namespace Platform.Api.Live;

/// <summary>
/// Rounds of work started by wake-ups from any thread, coalesced: however many <see cref="Wake"/> calls come, a round
/// runs once after them, and rounds start at most once per <paramref name="interval"/> (a frame for live points, half a
/// second for the runs list), so what piles up meanwhile goes out together.
/// </summary>
public sealed class PacedRounds(TimeSpan interval)
{
    private readonly SemaphoreSlim wake = new(0, 1);

    public void Wake()
    {
        try
        {
            wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // Already awake: what woke it now goes with the next round.
        }
    }

    /// <summary>Runs <paramref name="round"/> after each wake-up, paced, until <paramref name="ct"/> ends it.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> round, CancellationToken ct)
    {
        var last = DateTime.MinValue;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await wake.WaitAsync(ct);
                var due = last + interval - DateTime.UtcNow;
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, ct);
                }

                last = DateTime.UtcNow;
                await round(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
