namespace Platform.AppHost.Hosting;

/// <summary>
/// Where the solution lives and which build of it is running: the services are started from their own
/// build output, so the AppHost must know the repository root and the configuration it was built with.
/// </summary>
internal sealed record RepositoryLayout(string Root, string Configuration, string TargetFramework)
{
    public const string SolutionFile = "Platform.sln";

    /// <summary>Finds the repository from the current directory first, then from the AppHost's own location.</summary>
    public static RepositoryLayout Discover(string currentDirectory, string baseDirectory)
    {
        var root = FindRoot(currentDirectory) ?? FindRoot(baseDirectory) ?? throw new StartupFailure(
            $"Could not find {SolutionFile} above '{currentDirectory}' or '{baseDirectory}'. " +
            "Run the AppHost from inside the Platform repository (dotnet run --project AppHost).");
        var (configuration, framework) = BuildOf(baseDirectory);
        return new RepositoryLayout(root, configuration, framework);
    }

    public static string? FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    /// <summary>
    /// Reads the configuration and target framework from a build output path such as
    /// <c>AppHost/bin/Release/net10.0/</c>, so a Release AppHost starts Release services.
    /// </summary>
    public static (string Configuration, string TargetFramework) BuildOf(string baseDirectory)
    {
        var framework = new DirectoryInfo(Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseDirectory)));
        var configuration = framework.Parent;
        if (configuration?.Parent?.Name == "bin" && framework.Name.StartsWith("net", StringComparison.Ordinal))
        {
            return (configuration.Name, framework.Name);
        }

        return ("Debug", $"net{Environment.Version.Major}.{Environment.Version.Minor}");
    }

    public string DefaultDataDirectory => Path.Combine(Root, ".data");

    public string ProjectDirectory(string project) => Path.Combine(Root, project);

    public string ServiceAssembly(string project) =>
        Path.Combine(Root, project, "bin", Configuration, TargetFramework, $"Platform.{project}.dll");
}
