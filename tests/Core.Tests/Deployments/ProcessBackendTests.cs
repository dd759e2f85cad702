using System.Text.Json;
using Platform.Core.Catalog;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;

namespace Platform.Core.Tests.Deployments;

/// <summary>The process backend on real processes (a Python sleeper stands in for a module's API).</summary>
public sealed class ProcessBackendTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-ws-{Guid.NewGuid():N}");
    private readonly ProcessBackend _backend;
    private readonly Progress _progress = new();

    public ProcessBackendTests() => _backend = new ProcessBackend(new ProcessBackendOptions(_root));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            foreach (var workspace in Directory.EnumerateDirectories(_root))
            {
                _backend.DeleteAsync(Guid.Parse(Path.GetFileName(workspace)), null, CancellationToken.None).GetAwaiter().GetResult();
            }

            Directory.Delete(_root, recursive: true);
        }
    }

    private static WorkloadSpec Sleeper(Guid id, int memoryMiB = 256) => new(
        id, "sleeper", ModuleService.Api, new ResourceRequest(1, 0, memoryMiB, 1), DeploymentTemplate.Minimal, [],
        ["python3", "-c", "import time; time.sleep(600)"], "", new Dictionary<string, string> { ["PLATFORM_DEPLOYMENT_ID"] = id.ToString() }, "service-token", []);

    [Fact]
    public async Task Start_IsIdempotent_AdoptingItsOwnRunningProcess()
    {
        var id = Guid.NewGuid();
        var first = await _backend.StartAsync(Sleeper(id), null, _progress, CancellationToken.None);
        Assert.True(first.Launched);
        // Found by the record in its workspace even when the caller lost the state (a worker killed before saving it).
        var again = await _backend.StartAsync(Sleeper(id), null, _progress, CancellationToken.None);
        Assert.False(again.Launched);
        Assert.Equal(first.State, again.State);
        Assert.Equal(first.Address, again.Address);
        Assert.Equal(WorkloadStatus.Running, (await _backend.PollAsync(id, first.State, CancellationToken.None)).Status);
        Assert.Contains(_progress.Messages, m => m.StartsWith("Adopted the running process", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ARecordedPidWithOtherStartTicks_IsNotTheWorkload()
    {
        var id = Guid.NewGuid();
        var started = await _backend.StartAsync(Sleeper(id), null, _progress, CancellationToken.None);
        var record = JsonSerializer.Deserialize<ProcessRecord>(started.State)!;
        var reused = JsonSerializer.Serialize(record with { StartTicks = record.StartTicks + 1 });

        var status = await _backend.PollAsync(id, reused, CancellationToken.None);
        Assert.Equal(WorkloadStatus.Exited, status.Status);
        Assert.False(ProcessBackend.IsAlive(record with { StartTicks = record.StartTicks + 1 }));
        // Stopping "it" must not touch the process that merely has its pid.
        await _backend.StopAsync(Guid.NewGuid(), reused, CancellationToken.None);
        Assert.True(ProcessBackend.IsAlive(record));
    }

    [Fact]
    public async Task Stop_EndsTheSessionAndKeepsTheWorkspace_DeleteRemovesIt_BothIdempotent()
    {
        var id = Guid.NewGuid();
        var started = await _backend.StartAsync(Sleeper(id), null, _progress, CancellationToken.None);
        var record = JsonSerializer.Deserialize<ProcessRecord>(started.State)!;
        // setsid and prlimit act as they exec the command, a moment after launch: wait for the exec.
        for (var i = 0; i < 100 && !File.ReadAllText($"/proc/{record.Pid}/cmdline").StartsWith("python3", StringComparison.Ordinal); i++)
        {
            await Task.Delay(50);
        }

        // Its own session and process group, so the worker's end is not its end and a group signal reaches its children.
        var stat = File.ReadAllText($"/proc/{record.Pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        Assert.Equal(record.Pid.ToString(), fields[2]);
        Assert.Equal(record.Pid.ToString(), fields[3]);
        if (ProcessBackend.OnPath("prlimit") is not null)
        {
            Assert.Matches(@"Max address space\s+268435456\s+268435456", File.ReadAllText($"/proc/{record.Pid}/limits"));
        }

        await File.WriteAllTextAsync(Path.Combine(_backend.WorkspaceOf(id), "notes.txt"), "kept");
        await _backend.StopAsync(id, started.State, CancellationToken.None);
        Assert.False(ProcessBackend.IsAlive(record));
        Assert.Equal(WorkloadStatus.Exited, (await _backend.PollAsync(id, started.State, CancellationToken.None)).Status);
        Assert.Equal("kept", await File.ReadAllTextAsync(Path.Combine(_backend.WorkspaceOf(id), "notes.txt")));
        await _backend.StopAsync(id, started.State, CancellationToken.None);

        await _backend.DeleteAsync(id, started.State, CancellationToken.None);
        Assert.False(Directory.Exists(_backend.WorkspaceOf(id)));
        await _backend.DeleteAsync(id, started.State, CancellationToken.None);
        Assert.Equal(WorkloadStatus.NotFound, (await _backend.PollAsync(id, null, CancellationToken.None)).Status);
    }

    [Fact]
    public async Task AModuleWithoutAnApiCommand_FailsWithAPlainReason()
    {
        var spec = Sleeper(Guid.NewGuid()) with { ApiCommand = null };
        var failure = await Assert.ThrowsAsync<WorkloadException>(() => _backend.StartAsync(spec, null, _progress, CancellationToken.None));
        Assert.Equal("The module 'sleeper' has no API command.", failure.Message);
    }

    private sealed class Progress : IProgress<string>
    {
        public List<string> Messages { get; } = [];

        public void Report(string value) => Messages.Add(value);
    }
}
