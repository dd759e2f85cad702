using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Database;

/// <summary>
/// The private PostgreSQL cluster in the data folder: created on first run (initdb, UTF8, superuser 'platform'
/// with a random password kept in a 0600 file, scram-sha-256), reused afterwards, and run in the foreground as
/// a child listening on 127.0.0.1 only, without a unix socket (nothing but TCP with a password gets in).
/// </summary>
internal sealed class PostgresCluster
{
    public const string Superuser = "platform";
    public const string DatabaseName = "platform";

    private readonly PostgresAccount _account;
    private readonly ConsoleOutput _output;

    private PostgresCluster(string home, PostgresAccount account, ConsoleOutput output)
    {
        Home = home;
        _account = account;
        _output = output;
    }

    /// <summary>The folder holding the cluster and its password file: the data folder, or the root fallback.</summary>
    public string Home { get; }

    public string DataDirectory => Path.Combine(Home, "postgres");

    public string PasswordFile => Path.Combine(Home, "postgres.password");

    public bool Exists => File.Exists(Path.Combine(DataDirectory, "PG_VERSION"));

    public string? MajorVersion => Exists ? File.ReadAllText(Path.Combine(DataDirectory, "PG_VERSION")).Trim() : null;

    /// <summary>
    /// Puts the cluster in the data folder, unless the AppHost runs as root and the postgres user cannot reach
    /// that folder (a 0700 home): then in /var/lib/platform/&lt;hash of the data folder&gt;/, saying so.
    /// </summary>
    public static async Task<PostgresCluster> LocateAsync(string dataDirectory, PostgresAccount account, ConsoleOutput output, CancellationToken ct)
    {
        Directory.CreateDirectory(dataDirectory);
        if (await account.CanTraverseAsync(dataDirectory, ct))
        {
            return new PostgresCluster(dataDirectory, account, output);
        }

        var home = FallbackHome(dataDirectory);
        output.Warn($"The 'postgres' user cannot reach {dataDirectory} (inside a private home folder?), " +
            $"so the PostgreSQL cluster lives in {home} instead.");
        Directory.CreateDirectory(home);
        await account.GiveAsync(home, ct);
        return new PostgresCluster(home, account, output);
    }

    internal static string FallbackHome(string dataDirectory)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..12];
        return Path.Combine("/var/lib/platform", hash);
    }

    /// <summary>Runs initdb when there is no cluster yet; returns whether it did.</summary>
    public async Task<bool> EnsureCreatedAsync(PostgresBinaries binaries, CancellationToken ct)
    {
        if (Exists)
        {
            if (!File.Exists(PasswordFile))
            {
                throw new StartupFailure($"The PostgreSQL cluster in {DataDirectory} exists but its password file {PasswordFile} is missing. " +
                    $"Restore the file, or delete {DataDirectory} to start with an empty database.");
            }

            _output.Info($"Using the existing PostgreSQL cluster in {DataDirectory}.");
            return false;
        }

        var stopwatch = Stopwatch.StartNew();
        Directory.CreateDirectory(DataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        WritePasswordFile(RandomNumberGenerator.GetHexString(32, lowercase: true));
        await _account.GiveAsync(DataDirectory, ct);
        await _account.GiveAsync(PasswordFile, ct);
        var initdb = await _account.RunAsync(binaries.InitDb,
        [
            "-D", DataDirectory, "-U", Superuser, "--pwfile=" + PasswordFile, "-A", "scram-sha-256",
            "-E", "UTF8", "--no-locale", "--no-instructions",
        ], ct);
        if (!initdb.Succeeded)
        {
            throw new StartupFailure($"initdb failed (exit code {initdb.ExitCode}) creating {DataDirectory}:\n{initdb.Output}");
        }

        _output.Info($"Created a PostgreSQL {MajorVersion} cluster in {DataDirectory} in {stopwatch.Elapsed.TotalSeconds:0.0} s " +
            $"(superuser '{Superuser}', password in {PasswordFile}).");
        return true;
    }

    private void WritePasswordFile(string password)
    {
        File.Delete(PasswordFile);
        using var stream = new FileStream(PasswordFile, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        stream.Write(Encoding.UTF8.GetBytes(password + "\n"));
    }

    private string ReadPassword() => File.ReadAllText(PasswordFile).Trim();

    public ChildSpec ServerSpec(PostgresBinaries binaries, int port)
    {
        var (fileName, arguments) = _account.Wrap(binaries.Postgres,
        [
            "-D", DataDirectory, "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=",
        ]);
        return new ChildSpec("postgres", fileName, arguments, Home, new Dictionary<string, string?>(), StopSignals.Postgres);
    }

    public string ConnectionString(int port, string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = port,
        Username = Superuser,
        Password = ReadPassword(),
        Database = database,
    }.ConnectionString;

    /// <summary>Waits until the server accepts connections; fails with its last lines when it exits or hangs.</summary>
    public async Task WaitReadyAsync(ChildProcess server, int port, TimeSpan timeout, CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder(ConnectionString(port, "postgres")) { Pooling = false, Timeout = 2 }.ConnectionString;
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (server.Exited.IsCompleted)
            {
                throw new StartupFailure($"PostgreSQL exited with code {await server.Exited} while starting. Its last lines:\n" +
                    string.Join('\n', server.LastLines(20)));
            }

            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync(ct);
                return;
            }
            catch (NpgsqlException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, ct);
            }
            catch (NpgsqlException e)
            {
                throw new StartupFailure($"PostgreSQL did not accept connections within {timeout.TotalSeconds:0} s: {e.Message}. Its last lines:\n" +
                    string.Join('\n', server.LastLines(20)));
            }
        }
    }

    public async Task EnsureDatabaseAsync(int port, CancellationToken ct)
    {
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(ConnectionString(port, "postgres")) { Pooling = false }.ConnectionString);
        await connection.OpenAsync(ct);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", DatabaseName);
        if (await exists.ExecuteScalarAsync(ct) is not null)
        {
            return;
        }

        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\" ENCODING 'UTF8'", connection);
        await create.ExecuteNonQueryAsync(ct);
        _output.Info($"Created the database '{DatabaseName}'.");
    }
}
