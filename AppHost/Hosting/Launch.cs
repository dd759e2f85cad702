using Platform.AppHost.Processes;
using Platform.AppHost.Services;

namespace Platform.AppHost.Hosting;

/// <summary>
/// What the start sequence in Program.cs works with: the options, the console, the supervised children and the
/// ports already handed out in this run.
/// </summary>
internal sealed class Launch(AppHostOptions options, ConsoleOutput output, Supervisor children)
{
    public AppHostOptions Options => options;

    public ConsoleOutput Output => output;

    public Supervisor Children => children;

    public ISet<int> Ports { get; } = new HashSet<int>();

    /// <summary>Starts a service and waits for its /health to answer 200; a death or a timeout fails the start.</summary>
    public async Task StartServiceAsync(ServiceLaunch service, CancellationToken ct)
    {
        var started = DateTime.UtcNow;
        var child = children.Start(service.Spec, Supervisor.ServiceLayer, service.HealthUrl);
        output.Info($"Started {service.Name} (pid {child.Pid}), waiting for {service.HealthUrl}");
        var outcome = await HealthProbe.WaitAsync(service.HealthUrl, child.Exited, options.HealthTimeout, ct);
        switch (outcome)
        {
            case HealthOutcome.Healthy:
                output.Info($"{service.Name} is healthy ({(DateTime.UtcNow - started).TotalSeconds:0.0} s).");
                return;
            case HealthOutcome.Cancelled:
                ct.ThrowIfCancellationRequested();
                return;
            case HealthOutcome.Exited:
                throw new StartupFailure($"{service.Name} exited with code {await child.Exited} before it became healthy. Its last lines:\n" +
                    string.Join('\n', child.LastLines(20)));
            default:
                throw new StartupFailure($"{service.Name} did not answer 200 on {service.HealthUrl} within {options.HealthTimeout.TotalSeconds:0} s. Its last lines:\n" +
                    string.Join('\n', child.LastLines(20)));
        }
    }

    /// <summary>The one line people look for, and how the first admin gets in while there are no users.</summary>
    public void AnnounceReady(string publicUrl, int? users)
    {
        output.Headline($"Platform is ready: {publicUrl}");
        if (users == 0)
        {
            output.Headline($"No users yet: open {publicUrl}/Account/Register — the first user to register becomes the platform admin.");
        }
    }
}
