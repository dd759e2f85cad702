using Platform.Core.Jobs;
using Platform.Workers.Jobs;

namespace Platform.Workers.Tests.Jobs;

/// <summary>The environment contract every replica gets, variable by variable, for a job of two trainers and two parameter servers on two nodes.</summary>
public sealed class ReplicaEnvironmentTests
{
    private static readonly Job Job = new() { Id = Guid.Parse("0193a1b2-0000-7000-8000-000000000001"), Name = "ctr" };

    private static readonly List<JobReplica> Replicas =
    [
        new() { JobId = Job.Id, Role = ReplicaRole.Trainer, Index = 0, Node = "a", Port = 7000 },
        new() { JobId = Job.Id, Role = ReplicaRole.Trainer, Index = 1, Node = "b", Port = 7001 },
        new() { JobId = Job.Id, Role = ReplicaRole.ParameterServer, Index = 0, Node = "a", Port = 7002 },
        new() { JobId = Job.Id, Role = ReplicaRole.ParameterServer, Index = 1, Node = "b", Port = 7003 },
    ];

    private static Dictionary<string, string> For(int replica) => ReplicaEnvironment.For(
        Job, Replicas[replica], Replicas, node => node == "a" ? "10.0.0.1" : "10.0.0.2", "http://platform.test", "plat_job_key", "/work/output",
        new Dictionary<string, string> { ["learning-rate"] = "0.1", ["model.depth"] = "3" });

    [Fact]
    public void ATrainer_GetsItsRank_ThePeers_ThePaddleNames_AndTheOptions()
    {
        var e = For(1);
        Assert.Equal("trainer", e["PLATFORM_ROLE"]);
        Assert.Equal("trainer-1", e["PLATFORM_REPLICA"]);
        Assert.Equal(("1", "4"), (e["RANK"], e["WORLD_SIZE"]));
        Assert.Equal(("1", "1"), (e["PLATFORM_TRAINER_INDEX"], e["PADDLE_TRAINER_ID"]));
        Assert.False(e.ContainsKey("PLATFORM_PSERVER_INDEX"));
        Assert.Equal("10.0.0.1:7000,10.0.0.2:7001", e["PLATFORM_TRAINER_ENDPOINTS"]);
        Assert.Equal("10.0.0.1:7002,10.0.0.2:7003", e["PLATFORM_PSERVER_ENDPOINTS"]);
        Assert.Equal(e["PLATFORM_TRAINER_ENDPOINTS"], e["PADDLE_TRAINER_ENDPOINTS"]);
        Assert.Equal(e["PLATFORM_PSERVER_ENDPOINTS"], e["PADDLE_PSERVERS_IP_PORT_LIST"]);
        Assert.Equal(("2", "TRAINER"), (e["PADDLE_TRAINERS_NUM"], e["TRAINING_ROLE"]));
        Assert.Equal(("7001", "7001"), (e["PLATFORM_PORT"], e["PADDLE_PORT"]));
        Assert.Equal(("0.1", "3"), (e["PLATFORM_OPTION_LEARNING_RATE"], e["PLATFORM_OPTION_MODEL_DEPTH"]));
        Assert.Equal(("http://platform.test", "plat_job_key", Job.Id.ToString(), "ctr", "/work/output"),
            (e["PLATFORM_API_URL"], e["PLATFORM_API_KEY"], e["PLATFORM_JOB_ID"], e["PLATFORM_JOB_NAME"], e["PLATFORM_OUTPUT_DIR"]));
    }

    [Fact]
    public void AParameterServer_IsRankedAfterTheTrainers()
    {
        var e = For(3);
        Assert.Equal(("pserver", "pserver-1", "PSERVER"), (e["PLATFORM_ROLE"], e["PLATFORM_REPLICA"], e["TRAINING_ROLE"]));
        Assert.Equal(("3", "4", "1"), (e["RANK"], e["WORLD_SIZE"], e["PLATFORM_PSERVER_INDEX"]));
        Assert.False(e.ContainsKey("PADDLE_TRAINER_ID"));
        Assert.Equal("7003", e["PLATFORM_PORT"]);
    }
}
