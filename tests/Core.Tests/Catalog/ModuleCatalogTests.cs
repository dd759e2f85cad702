using Platform.Core.Catalog;

namespace Platform.Core.Tests.Catalog;

public sealed class ModuleCatalogTests : IDisposable
{
    private readonly CatalogFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private ModuleCatalog FolderCatalog() => new(new CatalogOptions { Folder = _folder.Path });

    [Fact]
    public void BuiltInModules_AllLoad_WithoutErrors()
    {
        var catalog = new ModuleCatalog(new CatalogOptions());

        var snapshot = catalog.Current;

        Assert.Empty(snapshot.Errors);
        Assert.Equal(["custom-image", "demo-classifier", "development"], snapshot.Modules.Select(m => m.Name));
        var own = catalog.Find("custom-image")!;
        Assert.Equal("Run your own image", own.Title);
        Assert.True(own.Images.Custom);
        Assert.Null(own.Images.Cpu);
        Assert.Equal([ModuleService.Api], own.Services);
        Assert.Null(own.Commands.Api);
        var development = catalog.Find("development")!;
        Assert.Equal("Development environment", development.Title);
        Assert.Equal([ModuleService.Jupyter, ModuleService.VsCode], development.Services);
        Assert.Equal(new ResourceRequest(1, 0, 2048, 10), development.Resources.Default);
        Assert.Equal(new ResourceRequest(8, 2, 32768, 100), development.Resources.Max);
        Assert.Contains("# Development environment", development.ReadmeMarkdown);
        var demo = catalog.Find("demo-classifier")!;
        Assert.Equal(["trainable", "inference", "cpu"], demo.Tags);
        Assert.Equal(["python3", "-m", "demo_classifier"], demo.Commands.Api);
        Assert.Equal(["python3", "train.py"], demo.Commands.Train);
        Assert.True(File.Exists(Path.Combine(demo.Folder!, "train.py")));
        Assert.EndsWith(Path.Combine("Notebook", "modules"), snapshot.Source);
    }

    [Fact]
    public void BrokenModule_IsReportedWithEveryProblem_AndTheOthersStillLoad()
    {
        _folder.Write("good", CatalogFolder.Manifest("good"));
        _folder.Write("broken", CatalogFolder.Manifest("other-name", change: j => j
            .Replace("\"memoryMiB\": 1024", "\"memoryMiB\": 99999")
            .Replace("\"api\": [\"python3\", \"-m\", \"app\"], ", "")
            .Replace("\"gpus\": 0", "\"gpus\": -1")), readme: null);
        _folder.Write("not-json", "{ \"name\": ", readme: "x");
        _folder.Write("empty", null, readme: null);

        var snapshot = FolderCatalog().Current;

        Assert.Equal(["good"], snapshot.Modules.Select(m => m.Name));
        var broken = snapshot.Errors.Where(e => e.Module == "broken").Select(e => e.Message).ToList();
        Assert.Contains("README.md is missing.", broken);
        Assert.Contains("name 'other-name' must be the folder's name, 'broken'.", broken);
        Assert.Contains("resources.default.memoryMiB (99999) is more than resources.max.memoryMiB (8192).", broken);
        Assert.Contains("resources.gpus must not be negative.", broken);
        Assert.Contains(broken, m => m.StartsWith("the api service needs commands.api", StringComparison.Ordinal));
        Assert.Contains(snapshot.Errors, e => e.Module == "not-json" && e.Message.StartsWith("module.json is not valid", StringComparison.Ordinal));
        Assert.Contains(new CatalogError("empty", "module.json is missing."), snapshot.Errors);
    }

    [Theory]
    [InlineData("\"services\": [\"api\", \"jupyter\"]", "\"services\": []", "services must name at least one of jupyter, vscode, api.")]
    [InlineData("\"services\": [\"api\", \"jupyter\"]", "\"services\": [\"jupyter\", \"rstudio\"]", "service 'rstudio' is unknown: use jupyter, vscode or api.")]
    [InlineData("\"title\": \"A module\"", "\"title\": \" \"", "title is required.")]
    [InlineData("\"summary\": \"Does something useful.\",", "", "summary is required.")]
    [InlineData("\"tags\": [\"cpu\", \"inference\"]", "\"tags\": [\"CPU\"]", "tag 'CPU' must be 1 to 32 lowercase letters, digits or dashes.")]
    [InlineData("\"cpus\": 1,", "\"cpus\": 0,", "resources.default.cpus must be more than 0.")]
    [InlineData("\"name\": \"m\"", "\"name\": \"m\", \"colour\": \"red\"", "module.json is not valid")]
    public void InvalidManifest_SaysWhatIsWrong(string from, string to, string expected)
    {
        _folder.Write("m", CatalogFolder.Manifest("m", change: j => j.Replace(from, to)));

        var (manifest, errors) = ModuleManifestReader.Read(Path.Combine(_folder.Path, "m"));

        Assert.Null(manifest);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Bad_Name")]
    [InlineData("-leading")]
    public void ModuleNames_FollowThePattern(string name)
    {
        _folder.Write(name, CatalogFolder.Manifest(name));

        var (manifest, errors) = ModuleManifestReader.Read(Path.Combine(_folder.Path, name));

        Assert.Null(manifest);
        Assert.Contains(errors, e => e.Contains("must be 1 to 63 lowercase letters", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Reload_PicksUpChangesInTheFolder()
    {
        _folder.Write("one", CatalogFolder.Manifest("one"));
        var catalog = FolderCatalog();
        var first = catalog.Current;
        Assert.Equal(["one"], first.Modules.Select(m => m.Name));

        _folder.Write("two", CatalogFolder.Manifest("two", title: "Second"));
        _folder.Write("one", CatalogFolder.Manifest("one", title: "Renamed"));
        var reloaded = await catalog.ReloadAsync();

        Assert.True(reloaded.Succeeded);
        Assert.Same(reloaded.Snapshot, catalog.Current);
        Assert.Equal(["one", "two"], catalog.Current.Modules.Select(m => m.Name));
        Assert.Equal("Renamed", catalog.Find("one")!.Title);
        Assert.Equal("Renamed", catalog.Find("one")!.Title);
        Assert.Equal("A module", first.Modules[0].Title);
        Assert.Null(catalog.Find("three"));
    }

    [Fact]
    public async Task MissingFolder_IsASourceError_AndAFailedReloadKeepsThePreviousSnapshot()
    {
        _folder.Write("one", CatalogFolder.Manifest("one"));
        var catalog = FolderCatalog();
        var loaded = catalog.Current;
        Directory.Delete(_folder.Path, recursive: true);

        var result = await catalog.ReloadAsync();

        Assert.False(result.Succeeded);
        Assert.Contains("does not exist", result.Error);
        Assert.Same(loaded, catalog.Current);
        Assert.Equal(result.Error, catalog.LastFailure!.Message);

        var never = new ModuleCatalog(new CatalogOptions { Folder = _folder.Path });
        Assert.Empty(never.Current.Modules);
        Assert.Equal(ModuleCatalog.SourceErrorModule, Assert.Single(never.Current.Errors).Module);
    }

    [Fact]
    public async Task GitSource_ClonesTheBranch_AndReloadFetchesNewCommits()
    {
        var bare = Path.Combine(_folder.Path, "modules.git");
        var work = Path.Combine(_folder.Path, "work");
        Directory.CreateDirectory(bare);
        CatalogFolder.Git(bare, "init", "--bare", "--quiet");
        CatalogFolder.Git(_folder.Path, "clone", "--quiet", bare, work);
        WriteModule(work, "from-git");
        CatalogFolder.Git(work, "add", "-A");
        CatalogFolder.Git(work, "commit", "--quiet", "-m", "first module");
        CatalogFolder.Git(work, "push", "--quiet", "origin", "HEAD:refs/heads/modules");
        var options = new CatalogOptions
        {
            GitUrl = new Uri(bare).AbsoluteUri,
            GitBranch = "modules",
            CacheFolder = Path.Combine(_folder.Path, "cache"),
        };
        var catalog = new ModuleCatalog(options);

        Assert.Equal(["from-git"], catalog.Current.Modules.Select(m => m.Name));
        Assert.Empty(catalog.Current.Errors);
        Assert.Equal($"git {options.GitUrl} (modules)", catalog.Current.Source);

        WriteModule(work, "second");
        File.Delete(Path.Combine(work, "from-git", "README.md"));
        CatalogFolder.Git(work, "add", "-A");
        CatalogFolder.Git(work, "commit", "--quiet", "-m", "second module, first one broken");
        CatalogFolder.Git(work, "push", "--quiet", "origin", "HEAD:refs/heads/modules");
        var reloaded = await catalog.ReloadAsync();

        Assert.True(reloaded.Succeeded, reloaded.Error);
        Assert.Equal(["second"], catalog.Current.Modules.Select(m => m.Name));
        Assert.Equal(new CatalogError("from-git", "README.md is missing."), Assert.Single(catalog.Current.Errors));

        // The remote gone: the reload fails with git's reason and the catalog stays as it was.
        Directory.Delete(bare, recursive: true);
        var failed = await catalog.ReloadAsync();
        Assert.False(failed.Succeeded);
        Assert.Contains("git fetch", failed.Error);
        Assert.Equal(["second"], catalog.Current.Modules.Select(m => m.Name));
    }

    [Fact]
    public void GitSource_ThatCannotBeCloned_IsASourceErrorWithoutCredentialsShown()
    {
        var catalog = new ModuleCatalog(new CatalogOptions
        {
            GitUrl = "https://user:s3cret@127.0.0.1:1/modules.git",
            CacheFolder = Path.Combine(_folder.Path, "cache"),
            GitTimeoutSeconds = 30,
        });

        var snapshot = catalog.Current;

        Assert.Empty(snapshot.Modules);
        var error = Assert.Single(snapshot.Errors);
        Assert.StartsWith("git clone of https://127.0.0.1:1/modules.git failed", error.Message);
        Assert.DoesNotContain("s3cret", error.Message);
        Assert.Equal("git https://127.0.0.1:1/modules.git", snapshot.Source);
        Assert.False(Directory.Exists(Path.Combine(_folder.Path, "cache")));
    }

    private static void WriteModule(string root, string name)
    {
        Directory.CreateDirectory(Path.Combine(root, name));
        File.WriteAllText(Path.Combine(root, name, "module.json"), CatalogFolder.Manifest(name));
        File.WriteAllText(Path.Combine(root, name, "README.md"), $"# {name}");
    }
}
