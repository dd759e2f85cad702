using System.Globalization;
using System.Text;
using Platform.Core.Jobs;

namespace Platform.Workers.Jobs;

/// <summary>
/// The environment every replica of a job gets (the contract the SDK and users' scripts read): who it is (role, index,
/// RANK of WORLD_SIZE), where its peers listen, the platform's address and the job's key, the options, and the output
/// folder; with the PaddlePaddle names beside ours so Paddle's fleet code runs unchanged. Trainers are ranks 0..n-1,
/// parameter servers n.. after them.
/// </summary>
public static class ReplicaEnvironment
{
    /// <param name="replicas">All the job's replicas, each with its port chosen.</param>
    /// <param name="addressOf">The address peers reach a node at.</param>
    /// <param name="outputDir">The output folder as the replica sees it.</param>
    public static Dictionary<string, string> For(
        Job job, JobReplica replica, IReadOnlyList<JobReplica> replicas, Func<string?, string> addressOf,
        string apiUrl, string apiKey, string outputDir, IReadOnlyDictionary<string, string> options)
    {
        var trainers = replicas.Where(r => r.Role == ReplicaRole.Trainer).OrderBy(r => r.Index).ToList();
        var servers = replicas.Where(r => r.Role == ReplicaRole.ParameterServer).OrderBy(r => r.Index).ToList();
        string Endpoint(JobReplica r) => $"{addressOf(r.Node)}:{r.Port!.Value.ToString(CultureInfo.InvariantCulture)}";
        var trainerEndpoints = string.Join(',', trainers.Select(Endpoint));
        var serverEndpoints = string.Join(',', servers.Select(Endpoint));
        var trainer = replica.Role == ReplicaRole.Trainer;
        var rank = trainer ? replica.Index : trainers.Count + replica.Index;
        var port = replica.Port!.Value.ToString(CultureInfo.InvariantCulture);
        static string Text(int value) => value.ToString(CultureInfo.InvariantCulture);

        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PLATFORM_API_URL"] = apiUrl,
            ["PLATFORM_API_KEY"] = apiKey,
            ["PLATFORM_JOB_ID"] = job.Id.ToString(),
            ["PLATFORM_JOB_NAME"] = job.Name,
            ["PLATFORM_ROLE"] = trainer ? "trainer" : "pserver",
            ["PLATFORM_REPLICA"] = replica.Label,
            ["RANK"] = Text(rank),
            ["WORLD_SIZE"] = Text(trainers.Count + servers.Count),
            ["PLATFORM_TRAINER_ENDPOINTS"] = trainerEndpoints,
            ["PLATFORM_PSERVER_ENDPOINTS"] = serverEndpoints,
            ["PLATFORM_PORT"] = port,
            ["PLATFORM_OUTPUT_DIR"] = outputDir,
            ["PADDLE_TRAINERS_NUM"] = Text(trainers.Count),
            ["PADDLE_TRAINER_ENDPOINTS"] = trainerEndpoints,
            ["PADDLE_PSERVERS_IP_PORT_LIST"] = serverEndpoints,
            ["PADDLE_PORT"] = port,
            ["TRAINING_ROLE"] = trainer ? "TRAINER" : "PSERVER",
        };
        if (trainer)
        {
            environment["PLATFORM_TRAINER_INDEX"] = Text(replica.Index);
            environment["PADDLE_TRAINER_ID"] = Text(replica.Index);
        }
        else
        {
            environment["PLATFORM_PSERVER_INDEX"] = Text(replica.Index);
        }

        foreach (var (key, value) in options)
        {
            environment[OptionVariable(key)] = value;
        }

        return environment;
    }

    /// <summary><c>PLATFORM_OPTION_</c> and the key upper-cased, '.' and '-' as '_' ("learning-rate" → PLATFORM_OPTION_LEARNING_RATE).</summary>
    public static string OptionVariable(string key)
    {
        var name = new StringBuilder("PLATFORM_OPTION_", 16 + key.Length);
        foreach (var c in key)
        {
            name.Append(c is '.' or '-' ? '_' : char.ToUpperInvariant(c));
        }

        return name.ToString();
    }
}
