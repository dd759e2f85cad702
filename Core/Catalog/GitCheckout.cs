using System.Diagnostics;

namespace Platform.Core.Catalog;

/// <summary>
/// A shallow clone of a catalog repository kept in a cache folder: cloned on first use, fetched and hard-reset to the
/// remote branch afterwards. git runs as a child process under a timeout (killed with its children when it runs over),
/// with prompts off and only file, git, http(s) and ssh transports allowed, so a URL cannot run a command.
/// </summary>
public sealed class GitCheckout(string url, string? branch, string folder, TimeSpan timeout)
{
    private readonly string _shownUrl = Redact(url);

    public string Folder => folder;

    /// <summary>The URL without user name and password, for messages and pages.</summary>
    public static string Redact(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && !string.IsNullOrEmpty(uri.UserInfo)
            ? url.Replace(uri.UserInfo + "@", "", StringComparison.Ordinal)
            : url;

    /// <summary>Brings the folder to the remote's latest commit; throws <see cref="CatalogSourceException"/> saying why not.</summary>
    public async Task UpdateAsync(CancellationToken ct)
    {
        if (Directory.Exists(Path.Combine(folder, ".git")))
        {
            var refspec = string.IsNullOrWhiteSpace(branch) ? "HEAD" : branch;
            await RunAsync(["-C", folder, "fetch", "--depth", "1", "--quiet", "origin", refspec], ct);
            await RunAsync(["-C", folder, "reset", "--hard", "--quiet", "FETCH_HEAD"], ct);
            await RunAsync(["-C", folder, "clean", "-fdxq"], ct);
            return;
        }

        // A half-made clone (interrupted, or a failed first attempt) is removed rather than repaired.
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(folder))!);
        List<string> clone = ["clone", "--depth", "1", "--quiet"];
        if (!string.IsNullOrWhiteSpace(branch))
        {
            clone.AddRange(["--branch", branch]);
        }

        clone.AddRange(["--", url, folder]);
        try
        {
            await RunAsync(clone, ct);
        }
        catch
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            throw;
        }
    }

    private async Task RunAsync(IReadOnlyList<string> arguments, CancellationToken ct)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ALLOW_PROTOCOL"] = "file:git:http:https:ssh";
        start.Environment["GIT_SSH_COMMAND"] = "ssh -o BatchMode=yes";

        Process process;
        try
        {
            process = Process.Start(start) ?? throw new CatalogSourceException("git did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new CatalogSourceException($"git could not be started ({e.Message}); install git to load the catalog from {_shownUrl}.");
        }

        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                ct.ThrowIfCancellationRequested();
                throw new CatalogSourceException($"git {arguments.FirstOrDefault(a => a is "clone" or "fetch") ?? arguments[0]} of {_shownUrl} " +
                    $"ran over {timeout.TotalSeconds:0} s and was stopped.");
            }

            await stdout;
            var error = (await stderr).Trim();
            if (process.ExitCode != 0)
            {
                var verb = arguments.FirstOrDefault(a => a is "clone" or "fetch" or "reset" or "clean") ?? "command";
                throw new CatalogSourceException($"git {verb} of {_shownUrl} failed (exit code {process.ExitCode}): {Tail(error.Replace(url, _shownUrl, StringComparison.Ordinal))}");
            }
        }
    }

    private static string Tail(string text) => text.Length <= 600 ? text : "…" + text[^600..];
}

/// <summary>The catalog's source as a whole could not be read (git failed, the folder is gone): the previous snapshot stays.</summary>
public sealed class CatalogSourceException(string message) : Exception(message);
