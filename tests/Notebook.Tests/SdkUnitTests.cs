using System.Diagnostics;

namespace Platform.Notebook.Tests;

/// <summary>
/// Runs the Python suites (the SDK's and each built-in module's) with unittest, so `dotnet test` covers the Python
/// side too.
/// </summary>
public class SdkUnitTests
{
    [Theory]
    [InlineData("Notebook/sdk")]
    [InlineData("Notebook/modules/demo-classifier")]
    public async Task PythonUnitTests_Pass(string folder)
    {
        var output = await RunPythonAsync(folder, ["-m", "unittest", "discover", "-s", "tests", "-v"], []);
        // unittest prints "Ran N tests"; zero would mean discovery found nothing and proved nothing.
        Assert.Matches(@"Ran [1-9]\d* tests?", output);
    }

    /// <summary>
    /// Runs Debian's python3 in <paramref name="folder"/> with a clean PLATFORM_* environment plus
    /// <paramref name="environment"/>, and a fresh empty HOME so no developer's config file is read; fails the test on a
    /// non-zero exit and returns stdout and stderr.
    /// </summary>
    public static async Task<string> RunPythonAsync(string folder, IEnumerable<string> arguments, Dictionary<string, string> environment)
    {
        var directory = Path.Combine([FindRepositoryRoot(), .. folder.Split('/')]);
        Assert.True(Directory.Exists(directory), $"Python project not found at {directory}");
        var home = Directory.CreateTempSubdirectory("platform-sdk-home-");
        var startInfo = new ProcessStartInfo
        {
            // Debian's interpreter is what the notebook images use; fall back to PATH elsewhere.
            FileName = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3",
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }
        // A developer's own key or config must not change what the suite sees; the tests also
        // isolate themselves, this keeps stray settings out of the interpreter's startup too.
        foreach (var name in new[] { "PLATFORM_API_URL", "PLATFORM_API_KEY", "PLATFORM_CONFIG", "PLATFORM_DEPLOYMENT_ID", "PYTHONPATH" })
        {
            startInfo.Environment.Remove(name);
        }
        startInfo.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        startInfo.Environment["HOME"] = home.FullName;
        foreach (var (name, value) in environment)
        {
            startInfo.Environment[name] = value;
        }

        try
        {
            using var process = Process.Start(startInfo) ?? throw new InvalidOperationException("python3 did not start");
            // Read both pipes concurrently: waiting on one while the other fills would deadlock.
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"python in {folder} ran over 5 minutes.\n{await stdout}\n{await stderr}");
            }

            var output = $"{await stdout}\n{await stderr}";
            Assert.True(process.ExitCode == 0, $"python in {folder} exited {process.ExitCode}:\n{output}");
            return output;
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Platform.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"Platform.sln not found above {AppContext.BaseDirectory}");
    }
}
