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
        var sdkDirectory = Path.Combine([FindRepositoryRoot(), .. folder.Split('/')]);
        Assert.True(Directory.Exists(sdkDirectory), $"Python project not found at {sdkDirectory}");

        var startInfo = new ProcessStartInfo
        {
            // Debian's interpreter is what the notebook images use; fall back to PATH elsewhere.
            FileName = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3",
            WorkingDirectory = sdkDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "-m", "unittest", "discover", "-s", "tests", "-v" })
        {
            startInfo.ArgumentList.Add(argument);
        }
        // A developer's own key or config must not change what the suite sees; the tests also
        // isolate themselves, this keeps stray settings out of the interpreter's startup too.
        foreach (var name in new[] { "PLATFORM_API_URL", "PLATFORM_API_KEY", "PLATFORM_CONFIG", "PYTHONPATH" })
        {
            startInfo.Environment.Remove(name);
        }
        startInfo.Environment["PYTHONDONTWRITEBYTECODE"] = "1";

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
            throw new TimeoutException($"python tests in {folder} ran over 5 minutes.\n{await stdout}\n{await stderr}");
        }

        var output = $"{await stdout}\n{await stderr}";
        Assert.True(process.ExitCode == 0, $"python tests in {folder} exited {process.ExitCode}:\n{output}");
        // unittest prints "Ran N tests"; zero would mean discovery found nothing and proved nothing.
        Assert.Matches(@"Ran [1-9]\d* tests?", output);
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
