using Platform.AppHost.Hosting;

namespace Platform.AppHost.Tests;

public sealed class RepositoryLayoutTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"repo-test-{Guid.NewGuid():N}");

    [Fact]
    public void FindRoot_WalksUpToTheFolderHoldingTheSolution()
    {
        var nested = Path.Combine(_root, "AppHost", "bin", "Debug", "net10.0");
        Directory.CreateDirectory(nested);
        File.WriteAllText(Path.Combine(_root, RepositoryLayout.SolutionFile), "");

        Assert.Equal(_root, RepositoryLayout.FindRoot(nested));
    }

    [Fact]
    public void FindRoot_ReturnsNothing_OutsideARepository()
    {
        Directory.CreateDirectory(_root);

        Assert.Null(RepositoryLayout.FindRoot(_root));
    }

    [Fact]
    public void Discover_FailsWithAHint_OutsideARepository()
    {
        Directory.CreateDirectory(_root);

        var failure = Assert.Throws<StartupFailure>(() => RepositoryLayout.Discover(_root, _root));

        Assert.Contains("Run the AppHost from inside the Platform repository", failure.Message);
    }

    [Theory]
    [InlineData("/r/AppHost/bin/Release/net10.0/", "Release", "net10.0")]
    [InlineData("/r/AppHost/bin/Debug/net10.0", "Debug", "net10.0")]
    public void BuildOf_ReadsConfigurationAndFrameworkFromTheOutputPath(string baseDirectory, string configuration, string framework) =>
        Assert.Equal((configuration, framework), RepositoryLayout.BuildOf(baseDirectory));

    [Fact]
    public void ServiceAssembly_PointsIntoTheServicesOwnBuildOutput() =>
        Assert.Equal("/r/Web/bin/Release/net10.0/Platform.Web.dll", new RepositoryLayout("/r", "Release", "net10.0").ServiceAssembly("Web"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }
}
