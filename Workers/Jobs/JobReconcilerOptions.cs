namespace Platform.Workers.Jobs;

/// <summary>Timings and addresses of <see cref="JobReconciler"/> (<c>Platform:Jobs:Reconciler</c>); the defaults suit a single machine.</summary>
public sealed class JobReconcilerOptions
{
    public TimeSpan ResyncInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How often a running job's replicas are polled: an exit is seen at most this late.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Longer than any one step (a launch with its datasets, an output upload renews it as it goes).</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>How many jobs this process acts on at once.</summary>
    public int MaxInFlight { get; set; } = 16;

    /// <summary>The wall-clock limit of a job that names none (<c>Platform:Jobs:DefaultTimeLimitMinutes</c>; 7 days).</summary>
    public int DefaultTimeLimitMinutes { get; set; } = 7 * 24 * 60;

    /// <summary>How many of a failed replica's last log lines go into the job's reason.</summary>
    public int TailLines { get; set; } = 20;

    /// <summary>
    /// The address peers reach a node's replicas at, by node name (<c>Platform:Jobs:NodeAddresses:{node}</c>); a node
    /// not listed is this machine, 127.0.0.1 (the process backend, and the docker backend with host networking).
    /// </summary>
    public Dictionary<string, string> NodeAddresses { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Where code in a replica reaches the platform (PLATFORM_API_URL): Web's address, else the public URL.</summary>
    public string ApiUrl { get; set; } = "";

    public string AddressOf(string? node) => node is not null && NodeAddresses.TryGetValue(node, out var address) ? address : "127.0.0.1";
}
