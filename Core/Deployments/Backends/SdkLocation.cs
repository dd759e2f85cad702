using Microsoft.Extensions.Configuration;

namespace Platform.Core.Deployments.Backends;

/// <summary>
/// Where the platform's Python SDK (<c>platformsdk</c>) lives on this machine, so workloads the process backend runs
/// (notebooks, job replicas) can import it with no installation: <c>Platform:Sdk:Path</c>, else <c>Notebook/sdk</c>
/// found upwards from the working directory or the binaries. Container images install the SDK themselves.
/// </summary>
public static class SdkLocation
{
    public static string? Find(IConfiguration configuration)
    {
        if (configuration["Platform:Sdk:Path"] is { Length: > 0 } configured)
        {
            return Directory.Exists(Path.Combine(configured, "platformsdk")) ? Path.GetFullPath(configured) : null;
        }

        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "Notebook", "sdk");
                if (Directory.Exists(Path.Combine(candidate, "platformsdk")))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>PYTHONPATH with the SDK's folder first (and what the workload was given after it).</summary>
    public static void AddTo(IDictionary<string, string> environment, string? sdkPath)
    {
        if (sdkPath is null)
        {
            return;
        }

        environment["PYTHONPATH"] = environment.TryGetValue("PYTHONPATH", out var existing) && existing.Length > 0
            ? sdkPath + ":" + existing
            : sdkPath;
    }
}
