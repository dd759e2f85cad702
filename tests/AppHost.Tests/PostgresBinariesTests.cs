using Platform.AppHost.Database;

namespace Platform.AppHost.Tests;

public sealed class PostgresBinariesTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"pgbin-test-{Guid.NewGuid():N}");

    [Fact]
    public void Find_TakesTheFirstCandidateHoldingBothInitdbAndPostgres()
    {
        var clientOnly = Folder("client", "psql", "initdb");
        var server = Folder("server", "initdb", "postgres");
        var later = Folder("later", "initdb", "postgres");

        Assert.Equal(server, PostgresBinaries.Find([Path.Combine(_root, "missing"), clientOnly, server, later])?.Directory);
    }

    [Fact]
    public void Find_ReturnsNothing_WhenNoCandidateHasTheServer() =>
        Assert.Null(PostgresBinaries.Find([Folder("client", "psql")]));

    [Fact]
    public void MissingMessage_NamesThePackageToInstallAndTheExternalAlternative()
    {
        Assert.Contains("sudo apt-get install postgresql", PostgresBinaries.MissingMessage);
        Assert.Contains("ConnectionStrings__platformdb", PostgresBinaries.MissingMessage);
    }

    [Fact]
    public void DebianVersionDirectories_ListsTheHighestMajorFirst()
    {
        Folder("lib/9.6/bin");
        Folder("lib/15/bin");
        Folder("lib/16/bin");
        Folder("lib/notes");

        var directories = PostgresBinaries.DebianVersionDirectories(Path.Combine(_root, "lib")).Select(d => Path.GetFileName(Path.GetDirectoryName(d))).ToList();

        Assert.Equal(["16", "15", "9.6"], directories);
    }

    [Fact]
    public async Task Candidates_PutTheVersionOfAnExistingClusterFirst()
    {
        var candidates = await PostgresBinaries.CandidatesAsync("13", CancellationToken.None);

        Assert.Equal("/usr/lib/postgresql/13/bin", candidates[0]);
    }

    [Fact]
    public void FallbackHome_IsStablePerDataFolderAndOutsideAnyHome()
    {
        var first = PostgresCluster.FallbackHome("/home/ann/platform/.data");

        Assert.Equal(first, PostgresCluster.FallbackHome("/home/ann/platform/.data"));
        Assert.NotEqual(first, PostgresCluster.FallbackHome("/home/bob/platform/.data"));
        Assert.StartsWith("/var/lib/platform/", first);
    }

    private string Folder(string name, params string[] files)
    {
        var folder = Path.Combine(_root, name);
        Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            File.WriteAllText(Path.Combine(folder, file), "");
        }

        return folder;
    }

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
