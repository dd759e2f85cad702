using Platform.AppHost.Hosting;

namespace Platform.AppHost.Processes;

/// <summary>
/// Owns every child of this run. During start-up a child that dies is a start-up failure (the waiting step
/// reports it); once the platform is up, <see cref="BeginSupervision"/> watches them: a child that exits while
/// nobody asked it to is reported loudly and restarted per <see cref="RestartPolicy"/>, or, past that budget
/// or with --no-restart, the whole run ends with <see cref="ExitCodes.GaveUpRestarting"/>.
/// </summary>
internal sealed class Supervisor(ConsoleOutput output, bool noRestart)
{
    /// <summary>Layer of PostgreSQL: stopped last. Services are a layer above it and stop first, together.</summary>
    public const int DatabaseLayer = 0;
    public const int ServiceLayer = 1;

    private sealed record Supervised(ChildProcess Child, int Layer, Uri? Health, RestartPolicy Policy);

    private readonly List<Supervised> _children = [];
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource<int> _gaveUp = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private volatile bool _isStopping;

    /// <summary>Completes with an exit code when supervision gave up on a child.</summary>
    public Task<int> GaveUp => _gaveUp.Task;

    public ChildProcess Start(ChildSpec spec, int layer, Uri? health = null)
    {
        var child = new ChildProcess(spec, output);
        child.Start();
        lock (_gate)
        {
            _children.Add(new Supervised(child, layer, health, new RestartPolicy()));
        }

        return child;
    }

    /// <summary>
    /// Called first thing from the signal handler: a terminal's Ctrl+C reaches the children too, and their
    /// exits must read as the shutdown they are, not as crashes.
    /// </summary>
    public void MarkStopping()
    {
        _isStopping = true;
        _stopping.Cancel();
    }

    public void BeginSupervision()
    {
        lock (_gate)
        {
            foreach (var supervised in _children)
            {
                _ = WatchAsync(supervised);
            }
        }
    }

    private async Task WatchAsync(Supervised supervised)
    {
        var child = supervised.Child;
        while (true)
        {
            var exitCode = await child.Exited.ConfigureAwait(false);
            // A grace moment for our own signal handler to run when a Ctrl+C reached us and the child together.
            await Task.Delay(TimeSpan.FromMilliseconds(500)).ConfigureAwait(false);
            if (_isStopping)
            {
                return;
            }

            if (ReportDeath(supervised, exitCode) is not { } delay)
            {
                _gaveUp.TrySetResult(ExitCodes.GaveUpRestarting);
                return;
            }

            if (!await DelayUnlessStoppingAsync(delay))
            {
                return;
            }

            // Under the lock that StopAllAsync takes: a restart never slips in after the stop has listed the children.
            lock (_gate)
            {
                if (_isStopping)
                {
                    return;
                }

                try
                {
                    child.Start();
                }
                catch (StartupFailure failure)
                {
                    output.Error(failure.Message);
                    _gaveUp.TrySetResult(ExitCodes.GaveUpRestarting);
                    return;
                }
            }

            output.Info($"{child.Name} restarted (pid {child.Pid}).");
            if (supervised.Health is { } health)
            {
                _ = ReportHealthAsync(child, health);
            }
        }
    }

    /// <summary>Says loudly what died and what happens next; returns the restart delay, or null to give up.</summary>
    private TimeSpan? ReportDeath(Supervised supervised, int exitCode)
    {
        var (child, policy) = (supervised.Child, supervised.Policy);
        output.Error($"{child.Name} (pid {child.Pid}) exited unexpectedly with code {exitCode}. Its last lines:");
        foreach (var line in child.LastLines(20))
        {
            output.Error("  | " + line);
        }

        var delay = noRestart ? null : policy.NextDelay(DateTimeOffset.UtcNow);
        if (delay is null)
        {
            output.Error(noRestart
                ? $"{child.Name} died and --no-restart is set: stopping the platform."
                : $"{child.Name} died {policy.MaxRestarts + 1} times within {policy.Window.TotalMinutes:0} minutes: giving up and stopping the platform.");
            return null;
        }

        output.Warn($"Restarting {child.Name} in {delay.Value.TotalSeconds:0} s " +
            $"(restart {policy.RecentRestarts} of at most {policy.MaxRestarts} in {policy.Window.TotalMinutes:0} minutes).");
        return delay;
    }

    private async Task<bool> DelayUnlessStoppingAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _stopping.Token).ConfigureAwait(false);
            return !_isStopping;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task ReportHealthAsync(ChildProcess child, Uri health)
    {
        var outcome = await HealthProbe.WaitAsync(health, child.Exited, TimeSpan.FromSeconds(60), _stopping.Token).ConfigureAwait(false);
        if (outcome == HealthOutcome.Healthy)
        {
            output.Info($"{child.Name} is healthy again.");
        }
        else if (outcome == HealthOutcome.TimedOut)
        {
            output.Warn($"{child.Name} has not become healthy within 60 s of its restart.");
        }
    }

    /// <summary>Stops the layers from the top down, each layer's children in parallel; never throws.</summary>
    public async Task StopAllAsync()
    {
        List<IGrouping<int, Supervised>> layers;
        lock (_gate)
        {
            MarkStopping();
            layers = _children.GroupBy(s => s.Layer).OrderByDescending(g => g.Key).ToList();
        }

        foreach (var layer in layers)
        {
            var running = layer.Where(s => s.Child.IsRunning).ToList();
            if (running.Count == 0)
            {
                continue;
            }

            output.Info($"Stopping {string.Join(", ", running.Select(s => s.Child.Name))}...");
            await Task.WhenAll(running.Select(s => s.Child.StopAsync())).ConfigureAwait(false);
        }
    }
}
