namespace Platform.Workers.Deployments;

/// <summary>Timings of <see cref="DeploymentReconciler"/>; the defaults suit a single machine.</summary>
public sealed class DeploymentReconcilerOptions
{
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(3);
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// A launch is seen ready on average half of this after it answers, so it is short: a local GET per start, not a load
    /// (bench/ide: launch overhead goal 300 ms at p50).
    /// </summary>
    public TimeSpan ReadinessInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Longer than a start with its readiness wait, so a live worker never loses a row it is acting on.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How many deployments this process acts on at once (each mostly waits on a launch or a readiness probe).</summary>
    public int MaxInFlight { get; set; } = 32;

    /// <summary>The address people open, for the URL in the "Running" event.</summary>
    public string PublicUrl { get; set; } = "";
}
