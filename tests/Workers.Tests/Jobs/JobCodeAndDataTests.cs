using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Datasets;
using Platform.Core.Jobs;

namespace Platform.Workers.Tests.Jobs;

/// <summary>A job's code from a dataset version, its datasets mounted (read-only by file modes, which root ignores: the tests run as root), and its outputs as successive model versions.</summary>
[Trait("Category", "Slow")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class JobCodeAndDataTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-jobs-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            foreach (var folder in Directory.EnumerateDirectories(_root, "*", SearchOption.AllDirectories))
            {
                File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            Directory.Delete(_root, recursive: true);
        }
    }

    private const string Train = """
        import os, sys
        rows = open("datasets/images/labels.csv").read().splitlines()
        name = os.environ["PLATFORM_OPTION_OUT"]
        open(os.path.join(os.environ["PLATFORM_OUTPUT_DIR"], name), "w").write("%d rows" % len(rows))
        print("trained on", len(rows), "rows")
        """;

    [Fact]
    public async Task CodeFromADataset_ReadsAMountedDataset_AndEachRunMakesTheNextModelVersionOfExactlyItsOutputs()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobcode"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("kim");
        await PublishAsync(host, userId, "trainer-code", ("train.py", Train));
        await PublishAsync(host, userId, "images", ("labels.csv", "cat,1\ndog,2\nemu,3\n"));

        SubmitJobRequest Run(string output) => new(
            Name: "from-code", Command: ["python3", "train.py"], Code: "trainer-code@1", Datasets: ["images@1"], OutputModel: "counts",
            Options: new Dictionary<string, string> { ["out"] = output }, Trainers: new ReplicaGroupRequest(1, 0.5, 0, 512));
        var first = await host.SubmitAsync(userId, Run("first.txt"));
        await host.AdmitAsync(first);
        var (job, _) = await host.WaitForAsync(first, (j, _) => JobService.IsFinished(j.Observed));
        Assert.True(job.Observed == JobObserved.Succeeded, job.Reason);
        Assert.Equal(1, job.OutputModelVersion);
        Assert.Contains("Code: the files of trainer-code@1 are copied into the working folder", await host.EventsAsync(first));
        Assert.Contains(await host.EventsAsync(first), e => e.StartsWith("Mounting dataset images@1", StringComparison.Ordinal));

        var second = await host.SubmitAsync(userId, Run("second.txt"));
        await host.AdmitAsync(second);
        (job, _) = await host.WaitForAsync(second, (j, _) => JobService.IsFinished(j.Observed));
        Assert.True(job.Observed == JobObserved.Succeeded, job.Reason);
        Assert.Equal(2, job.OutputModelVersion);

        await using var db = await host.DbAsync();
        var model = await db.Artifacts.SingleAsync(a => a.Name == "counts" && a.Kind == ArtifactKind.Model);
        async Task<List<string>> FilesOf(int number) => await db.ArtifactFiles
            .Where(f => db.ArtifactVersions.Any(v => v.Id == f.VersionId && v.ArtifactId == model.Id && v.Number == number)).Select(f => f.Path).ToListAsync();
        Assert.Equal(["first.txt"], await FilesOf(1));
        Assert.Equal(["second.txt"], await FilesOf(2));
        Assert.Equal(second, model.SourceJobId);
    }

    [Fact]
    public async Task AnEmptyOutputFolder_IsAnEvent_NotAFailure()
    {
        await using var host = new JobHost(await JobHost.NewDatabaseAsync("jobempty"), _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("lee");
        var id = await host.SubmitAsync(userId, new SubmitJobRequest(
            Name: "writes-nothing", Command: ["python3", "-c", "print('nothing to keep')"], OutputModel: "nothing", Trainers: new ReplicaGroupRequest(1, 0.5, 0, 512)));
        await host.AdmitAsync(id);
        var (job, _) = await host.WaitForAsync(id, (j, _) => JobService.IsFinished(j.Observed));
        Assert.True(job.Observed == JobObserved.Succeeded, job.Reason);
        Assert.Null(job.OutputModelVersion);
        Assert.Contains("Outputs: output/ is empty, so no version of model nothing was made", await host.EventsAsync(id));
    }

    private static async Task PublishAsync(JobHost host, Guid userId, string name, params (string Path, string Text)[] files)
    {
        using var scope = host.Services.CreateScope();
        var datasets = scope.ServiceProvider.GetRequiredService<DatasetService>();
        var created = await datasets.CreateAsync(userId, new CreateDatasetRequest(null, name, null, null, null));
        Assert.True(created.IsSuccess, created.Error?.Message);
        foreach (var (path, text) in files)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            Assert.True((await datasets.UploadAsync(userId, created.Value!.Id, path, new MemoryStream(bytes), bytes.Length)).IsSuccess);
        }

        Assert.True((await datasets.PublishAsync(userId, created.Value!.Id)).IsSuccess);
    }
}
