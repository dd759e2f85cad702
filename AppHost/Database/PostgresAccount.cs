using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Database;

/// <summary>
/// Who the PostgreSQL programs run as. PostgreSQL refuses to run as root, so a root AppHost runs initdb and
/// postgres as the `postgres` system user through setpriv, which switches user and then execs in place: the
/// child's pid is the server's own, and our signals reach it directly. runuser is the fallback (it forks, but
/// forwards SIGTERM/SIGINT). Any other user runs the programs as itself.
/// </summary>
internal sealed class PostgresAccount
{
    public const string SystemUser = "postgres";

    private readonly string? _switcher;

    private PostgresAccount(string? switcher) => _switcher = switcher;

    public bool SwitchesUser => _switcher is not null;

    public static async Task<PostgresAccount> CurrentAsync(CancellationToken ct)
    {
        if (!Environment.IsPrivilegedProcess)
        {
            return new PostgresAccount(null);
        }

        var id = await Command.RunAsync("id", ["-u", SystemUser], ct);
        if (!id.Succeeded)
        {
            throw new StartupFailure("PostgreSQL refuses to run as root, and there is no 'postgres' system user to run it as. " +
                "Install the server package (sudo apt-get install postgresql creates that user), or run the AppHost as a normal user.");
        }

        var switcher = Command.FindOnPath("setpriv") ?? Command.FindOnPath("runuser") ?? throw new StartupFailure(
            "Running as root needs setpriv or runuser (package util-linux) to start PostgreSQL as the 'postgres' user.");
        return new PostgresAccount(switcher);
    }

    /// <summary>The program and arguments that run <paramref name="file"/> as the PostgreSQL account.</summary>
    public (string FileName, IReadOnlyList<string> Arguments) Wrap(string file, IEnumerable<string> arguments)
    {
        if (_switcher is null)
        {
            return (file, arguments.ToList());
        }

        string[] prefix = Path.GetFileName(_switcher) == "setpriv"
            ? ["--reuid=" + SystemUser, "--regid=" + SystemUser, "--init-groups", file]
            : ["-u", SystemUser, "--", file];
        return (_switcher, [.. prefix, .. arguments]);
    }

    public Task<Command.Result> RunAsync(string file, IEnumerable<string> arguments, CancellationToken ct)
    {
        var (fileName, args) = Wrap(file, arguments);
        return Command.RunAsync(fileName, args, ct);
    }

    /// <summary>Whether the account can reach <paramref name="directory"/> (every parent searchable, e.g. not under a 0700 home).</summary>
    public async Task<bool> CanTraverseAsync(string directory, CancellationToken ct) =>
        !SwitchesUser || (await RunAsync("test", ["-x", directory], ct)).Succeeded;

    /// <summary>Hands a path over to the account (no-op when it is us).</summary>
    public async Task GiveAsync(string path, CancellationToken ct)
    {
        if (!SwitchesUser)
        {
            return;
        }

        var chown = await Command.RunAsync("chown", ["-R", $"{SystemUser}:{SystemUser}", path], ct);
        if (!chown.Succeeded)
        {
            throw new StartupFailure($"Could not hand {path} to the 'postgres' user: {chown.Output}");
        }
    }
}
