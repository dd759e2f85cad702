using System.Diagnostics;

namespace Platform.Core.Tests.Catalog;

/// <summary>A temporary folder of modules, written by the test, removed with it.</summary>
public sealed class CatalogFolder : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"platform-catalog-{Guid.NewGuid():N}");

    public CatalogFolder() => Directory.CreateDirectory(Path);

    /// <summary>A module that passes validation; <paramref name="change"/> edits its JSON text before it is written.</summary>
    public static string Manifest(string name, string title = "A module", Func<string, string>? change = null)
    {
        var json = $$"""
            {
              "name": "{{name}}",
              "title": "{{title}}",
              "summary": "Does something useful.",
              "tags": ["cpu", "inference"],
              "services": ["api", "jupyter"],
              "images": { "cpu": "localhost/{{name}}:latest", "tags": ["latest", "1.0"] },
              "resources": {
                "default": { "cpus": 1, "gpus": 0, "memoryMiB": 1024, "diskGiB": 5 },
                "max": { "cpus": 4, "gpus": 1, "memoryMiB": 8192, "diskGiB": 50 }
              },
              "commands": { "api": ["python3", "-m", "app"], "train": ["python3", "train.py"] }
            }
            """;
        return change is null ? json : change(json);
    }

    public void Write(string folder, string? manifest, string? readme = "# Module\n\nHello.")
    {
        var directory = System.IO.Path.Combine(Path, folder);
        Directory.CreateDirectory(directory);
        if (manifest is not null)
        {
            File.WriteAllText(System.IO.Path.Combine(directory, "module.json"), manifest);
        }

        if (readme is not null)
        {
            File.WriteAllText(System.IO.Path.Combine(directory, "README.md"), readme);
        }
    }

    /// <summary>Runs git in <paramref name="workingDirectory"/> with a fixed identity; fails the test when git does.</summary>
    public static void Git(string workingDirectory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", "user.name=Test", "-c", "user.email=test@example.org", "-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false" }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', arguments)} failed: {error.Result}");
    }

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            // git makes its objects read-only; clear that so the folder can go.
            foreach (var file in Directory.EnumerateFiles(Path, "*", SearchOption.AllDirectories))
            {
                File.SetAttributes(file, FileAttributes.Normal);
            }

            Directory.Delete(Path, recursive: true);
        }
    }
}
