using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Core.Deployments;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// Dataset versions from the filesystem object store, materialised into the host's cache and linked into workspaces
/// by the process backend; the echo-api module (Python's file server, serving its workspace) is the workload.
/// </summary>
[Trait("Category", "Slow")]
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DatasetMountTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-mounts-{Guid.NewGuid():N}");

    private string Workspaces => Path.Combine(_root, "workspaces");

    private string Cache => Path.Combine(_root, "dataset-cache");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            // The cache is read-only by design: make its folders writable again to remove it.
            foreach (var folder in Directory.EnumerateDirectories(_root, "*", SearchOption.AllDirectories).Prepend(_root))
            {
                if (new DirectoryInfo(folder).LinkTarget is null)
                {
                    File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
                }
            }

            Directory.Delete(_root, recursive: true);
        }
    }

    private async Task<DeploymentHost> StartHostAsync() =>
        new(await DeploymentHost.NewDatabaseAsync("mounts"), Workspaces, new Dictionary<string, string>
        {
            ["ConnectionStrings:objectstore"] = $"Folder={Path.Combine(_root, "objects")}",
            ["Platform:Deployments:DatasetCache"] = Cache,
        });

    [Fact]
    public async Task APublishedVersion_ShowsReadOnlyUnderDatasets_IsReusedByTheNextStart_AndAVanishedOneFailsTheStart()
    {
        await using var host = await StartHostAsync();
        _ = host.Server;
        var userId = await host.CreateUserAsync("mona");
        var datasetId = await PublishAsync(host, userId, "images", ("labels.csv", "cat,1\ndog,2\n"), ("train/0.txt", "zero"));
        await PublishAsync(host, userId, datasetId, ("labels.csv", "changed in version 2"));

        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, EchoWith("images@1")))).Value!.Id;
        var running = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed);
        Assert.Equal(ObservedState.Running, running.Observed);

        var mounted = Path.Combine(host.Backend.WorkspaceOf(id), "datasets", "images");
        Assert.Equal("cat,1\ndog,2\n", await File.ReadAllTextAsync(Path.Combine(mounted, "labels.csv")));
        Assert.Equal("zero", await File.ReadAllTextAsync(Path.Combine(mounted, "train", "0.txt")));
        var cacheFolder = new DirectoryInfo(mounted).LinkTarget!;
        Assert.StartsWith(Cache + "/", cacheFolder);
        // Read-only by mode (root, which the tests may run as, ignores modes; the bits are what a user meets).
        Assert.Equal((UnixFileMode)0b100_100_100, File.GetUnixFileMode(Path.Combine(mounted, "labels.csv")));
        Assert.Equal((UnixFileMode)0b101_101_101, File.GetUnixFileMode(Path.Combine(mounted, "train")));
        Assert.Equal((UnixFileMode)0b101_101_101, File.GetUnixFileMode(cacheFolder));
        if (!Environment.IsPrivilegedProcess)
        {
            Assert.Throws<UnauthorizedAccessException>(() => File.WriteAllText(Path.Combine(mounted, "labels.csv"), "overwritten"));
            Assert.Throws<UnauthorizedAccessException>(() => File.WriteAllText(Path.Combine(mounted, "new.txt"), "added"));
        }

        // The workload sees them too: its file server serves the workspace.
        using (var http = new HttpClient())
        {
            Assert.Equal("zero", await http.GetStringAsync($"{running.Address}/datasets/images/train/0.txt"));
        }

        Assert.Contains(await host.EventsAsync(id), e => e.StartsWith("Mounting dataset images@1 (2 files, 16 B)", StringComparison.Ordinal));

        var built = Directory.GetLastWriteTimeUtc(cacheFolder);
        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StopAsync(userId, id)));
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Stopped);
        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StartAsync(userId, id)));
        var again = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed && d.ObservedGeneration == d.Generation);
        Assert.Equal(ObservedState.Running, again.Observed);
        Assert.Equal(cacheFolder, new DirectoryInfo(mounted).LinkTarget);
        Assert.Equal(built, Directory.GetLastWriteTimeUtc(cacheFolder));
        Assert.Single(Directory.GetDirectories(Cache));

        // A version deleted since the deployment was made fails its next start, saying why.
        using (var scope = host.Services.CreateScope())
        {
            Assert.True((await scope.ServiceProvider.GetRequiredService<DatasetService>().DeleteVersionAsync(userId, datasetId, "1")).IsSuccess);
        }

        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StopAsync(userId, id)));
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Stopped);
        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StartAsync(userId, id)));
        var failed = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed && d.ObservedGeneration == d.Generation);
        Assert.Equal(ObservedState.Failed, failed.Observed);
        Assert.Contains("Dataset images@1 cannot be mounted: Dataset 'images' has no version 1.", failed.Reason);

        // Unknown datasets never get that far: create refuses them beside the field.
        var refused = await host.WithServiceAsync(s => s.CreateAsync(userId, EchoWith("nope@1")));
        Assert.Equal(ErrorKind.Validation, refused.Error?.Kind);
        Assert.Equal(["No dataset 'nope' you can read."], refused.Error!.Fields!["datasets[0]"]);
    }

    [Fact]
    public async Task ATamperedCacheFolder_IsRebuilt_AndStaleLinksAreReplaced()
    {
        await using var host = await StartHostAsync();
        _ = host.Server;
        var userId = await host.CreateUserAsync("tess");
        await PublishAsync(host, userId, "sounds", ("a.wav", "RIFF"));
        var id = DeploymentHost.Ok(await host.WithServiceAsync(s => s.CreateAsync(userId, EchoWith("sounds@latest")))).Value!.Id;
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Running);
        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StopAsync(userId, id)));
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Stopped);

        var datasets = Path.Combine(host.Backend.WorkspaceOf(id), "datasets");
        var cacheFolder = new DirectoryInfo(Path.Combine(datasets, "sounds")).LinkTarget!;
        File.SetUnixFileMode(cacheFolder, (UnixFileMode)0b111_101_101);
        File.Delete(Path.Combine(cacheFolder, "a.wav"));
        File.WriteAllText(Path.Combine(cacheFolder, "extra.txt"), "not in the version");
        Directory.CreateSymbolicLink(Path.Combine(datasets, "gone"), Path.Combine(_root, "nowhere"));

        DeploymentHost.Ok(await host.WithServiceAsync(s => s.StartAsync(userId, id)));
        var again = await host.WaitForAsync(id, d => d.Observed is ObservedState.Running or ObservedState.Failed && d.ObservedGeneration == d.Generation);
        Assert.Equal(ObservedState.Running, again.Observed);
        Assert.Equal(["a.wav"], Directory.GetFiles(cacheFolder).Select(f => Path.GetFileName(f)).ToList());
        Assert.Equal("RIFF", await File.ReadAllTextAsync(Path.Combine(datasets, "sounds", "a.wav")));
        Assert.Null(new FileInfo(Path.Combine(datasets, "gone")).LinkTarget);

        Assert.True(await host.WithServiceAsync(async s => (await s.DeleteAsync(userId, id)).IsSuccess));
        await host.WaitForAsync(id, d => d.Observed == ObservedState.Deleted);
        // The cache outlives the workspace: it is the host's, for the next deployment that mounts the version.
        Assert.True(File.Exists(Path.Combine(cacheFolder, "a.wav")));
    }

    private static CreateDeploymentRequest EchoWith(string dataset) =>
        new(null, "echo-api", "Echo", null, "api", null, null, null, null, null, null, [dataset], null);

    private static async Task<Guid> PublishAsync(DeploymentHost host, Guid userId, string name, params (string Path, string Text)[] files)
    {
        using var scope = host.Services.CreateScope();
        var created = await scope.ServiceProvider.GetRequiredService<DatasetService>().CreateAsync(userId, new CreateDatasetRequest(null, name, null, null, null));
        Assert.True(created.IsSuccess, created.Error?.Message);
        await PublishAsync(host, userId, created.Value!.Id, files);
        return created.Value!.Id;
    }

    private static async Task PublishAsync(DeploymentHost host, Guid userId, Guid datasetId, params (string Path, string Text)[] files)
    {
        using var scope = host.Services.CreateScope();
        var datasets = scope.ServiceProvider.GetRequiredService<DatasetService>();
        foreach (var (path, text) in files)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            var uploaded = await datasets.UploadAsync(userId, datasetId, path, new MemoryStream(bytes), bytes.Length);
            Assert.True(uploaded.IsSuccess, uploaded.Error?.Message);
        }

        var published = await datasets.PublishAsync(userId, datasetId);
        Assert.True(published.IsSuccess, published.Error?.Message);
    }
}
