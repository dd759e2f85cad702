using Platform.Core.Jobs;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// A small distributed program in python3 for the tests: the parameter server listens on its PLATFORM_PORT and answers
/// each trainer; trainers connect to the first PLATFORM_PSERVER_ENDPOINTS entry, exchange a message, sleep for the
/// option <c>sleep</c>, trainer 0 writes <c>model.txt</c> into PLATFORM_OUTPUT_DIR, and trainer k exits with the option
/// <c>fail_rank_k</c> (0 by default). Every replica first prints a launch marker with its pid; lines are written whole, one write each (Podman's log API was
/// seen to drop fragments of a line that print() wrote in several writes).
/// </summary>
public static class JobScripts
{
    public const string Marker = "launch-marker";

    public const string Distributed = """
        import os, socket, sys, time
        e = os.environ
        def say(*words):
            sys.stdout.write(" ".join(str(w) for w in words) + "\n"); sys.stdout.flush()
        say("launch-marker", e["PLATFORM_REPLICA"], os.getpid(), "rank", e["RANK"], "of", e["WORLD_SIZE"])
        if e["PLATFORM_ROLE"] == "pserver":
            s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", int(e["PLATFORM_PORT"]))); s.listen(8)
            while True:
                c, _ = s.accept(); d = c.recv(200); c.sendall(b"ack " + d); c.close()
        host, port = e["PLATFORM_PSERVER_ENDPOINTS"].split(",")[0].split(":")
        for i in range(200):
            try:
                c = socket.create_connection((host, int(port))); break
            except OSError:
                time.sleep(0.1)
        c.sendall(("hello from rank " + e["RANK"]).encode()); reply = c.recv(200).decode()
        say("reply:", reply, "paddle id", e["PADDLE_TRAINER_ID"], "trainers", e["PLATFORM_TRAINER_ENDPOINTS"])
        time.sleep(float(e.get("PLATFORM_OPTION_SLEEP", "0")))
        if e["RANK"] == "0":
            open(os.path.join(e["PLATFORM_OUTPUT_DIR"], "model.txt"), "w").write(reply + "; world " + e["WORLD_SIZE"])
        code = int(e.get("PLATFORM_OPTION_FAIL_RANK_" + e["RANK"], "0"))
        if code:
            say("trainer", e["RANK"], "gives up: loss is NaN")
        sys.exit(code)
        """;

    public static SubmitJobRequest TwoTrainersOnePserver(string name, IReadOnlyDictionary<string, string>? options = null, string? outputModel = null) => new(
        Name: name,
        Command: ["python3", "-c", Distributed],
        Options: options,
        OutputModel: outputModel,
        Trainers: new ReplicaGroupRequest(2, 0.5, 0, 512),
        ParameterServers: new ReplicaGroupRequest(1, 0.5, 0, 512));
}
