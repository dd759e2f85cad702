using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Amazon.S3;
using Amazon.S3.Model;

namespace Platform.Tests.Fixtures;

/// <summary>
/// A throwaway S3 server: OpenStack Swift (Debian packages swift-proxy, swift-account, swift-container, swift-object)
/// with the s3api and tempauth middlewares, one per test process, each test class taking a bucket of its own
/// (<see cref="CreateBucketAsync"/>). Everything (configs, rings, certificate, storage, logs) lives in one temp folder,
/// removed when the process exits; /etc/swift is neither read nor changed. Single replica, HTTPS on the proxy with a
/// self-signed certificate made by openssl at start, real SigV4 checking. See docs/storage-testing.md.
/// </summary>
public sealed partial class SwiftS3Server
{
    private static readonly Lazy<Task<SwiftS3Server>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    private const string FolderPrefix = "platform-test-swift-";
    private const string Python = "/usr/bin/python3";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly string _directory;
    private Process? _process;
    private int _bucketCounter;

    private SwiftS3Server(string directory, int port, string secretKey)
    {
        _directory = directory;
        Endpoint = new Uri($"https://127.0.0.1:{port}");
        SecretKey = secretKey;
        CaCertificatePath = Path.Combine(directory, "cert.pem");
    }

    public static Task<SwiftS3Server> GetAsync() => Shared.Value;

    /// <summary>The proxy's S3 endpoint, https://127.0.0.1:PORT (path-style addressing).</summary>
    public Uri Endpoint { get; }

    /// <summary>tempauth user "tester" of account "test": s3api takes "account:user" as the access key.</summary>
    public string AccessKey => "test:tester";

    /// <summary>The tempauth key of that user, random per server.</summary>
    public string SecretKey { get; }

    /// <summary>s3api's `location`: the region signatures must be scoped to.</summary>
    public string Region => "us-east-1";

    /// <summary>PEM file of the proxy's self-signed certificate: trust exactly this one.</summary>
    public string CaCertificatePath { get; }

    /// <summary>Time from the first <see cref="GetAsync"/> to the first successful S3 call.</summary>
    public TimeSpan StartupTime { get; private set; }

    /// <summary>A client configured for Swift (see <see cref="SwiftS3ClientFactory"/>); pass other keys to test authentication.</summary>
    public AmazonS3Client CreateClient(string? accessKey = null, string? secretKey = null) =>
        SwiftS3ClientFactory.Create(Endpoint, accessKey ?? AccessKey, secretKey ?? SecretKey, Region, CaCertificatePath);

    /// <summary>A plain HttpClient trusting the server certificate, e.g. for presigned URLs.</summary>
    public HttpClient CreateHttpClient() => SwiftS3ClientFactory.CreateHttpClient(CaCertificatePath);

    /// <summary>Creates an empty bucket and returns its name.</summary>
    public async Task<string> CreateBucketAsync(string prefix = "test")
    {
        var clean = new string(prefix.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray()).Trim('-');
        var suffix = $"-{Environment.ProcessId}-{Interlocked.Increment(ref _bucketCounter)}";
        clean = clean.Length == 0 ? "test" : clean[..Math.Min(clean.Length, 63 - suffix.Length)].TrimEnd('-');
        var name = clean + suffix;
        using var client = CreateClient();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return name;
    }

    /// <summary>The tail of every server log, for failure messages.</summary>
    public string ReadLogs() => ReadLogs(_directory);

    private static async Task<SwiftS3Server> StartAsync()
    {
        var stopwatch = Stopwatch.StartNew();
        var missing = new[] { "swift-proxy-server", "swift-account-server", "swift-container-server", "swift-object-server" }
            .Where(b => !File.Exists(Path.Combine("/usr/bin", b))).ToList();
        if (missing.Count > 0 || !File.Exists(Python))
        {
            throw new InvalidOperationException(
                $"OpenStack Swift not found ({string.Join(", ", missing.DefaultIfEmpty(Python))} missing): install the Debian/Ubuntu packages " +
                "'swift-proxy swift-account swift-container swift-object' (and 'openssl'), as .ci/run does.");
        }

        SweepLeftovers();
        var directory = CreateFolderWithXattrs();
        var server = new SwiftS3Server(directory, FreePort(), Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Stop();
        try
        {
            await server.LaunchAsync();
        }
        catch
        {
            server.Stop();
            throw;
        }

        server.StartupTime = stopwatch.Elapsed;
        return server;
    }

    private async Task LaunchAsync()
    {
        var devices = Path.Combine(_directory, "srv");
        Directory.CreateDirectory(Path.Combine(devices, "d1"));
        var proxyPort = Endpoint.Port;
        var ports = new Dictionary<string, int>
        {
            ["account"] = FreePort(),
            ["container"] = FreePort(),
            ["object"] = FreePort(),
        };

        // openssl first (a separate process, ~20 ms); EC keys are made far faster than RSA ones.
        await RunAsync("openssl",
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", Path.Combine(_directory, "key.pem"), "-out", CaCertificatePath, "-days", "7",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]);

        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        await File.WriteAllTextAsync(Path.Combine(_directory, "swift.conf"), $"""
            [swift-hash]
            swift_hash_path_suffix = {suffix}
            swift_hash_path_prefix = {suffix}

            [storage-policy:0]
            name = Policy-0
            default = yes
            """);
        await File.WriteAllTextAsync(Path.Combine(_directory, "launch.py"), LauncherScript);
        await File.WriteAllTextAsync(Path.Combine(_directory, "platform_dict_cache.py"), DictCacheScript);

        foreach (var (name, port) in ports)
        {
            await File.WriteAllTextAsync(Path.Combine(_directory, $"{name}-server.conf"), $"""
                [DEFAULT]
                bind_ip = 127.0.0.1
                bind_port = {port}
                swift_dir = {_directory}
                devices = {devices}
                mount_check = false
                log_name = {name}-server
                log_level = INFO

                [pipeline:main]
                pipeline = {name}-server

                [app:{name}-server]
                use = egg:swift#{name}
                """);
        }

        // The proxy: s3api before tempauth (s3api turns the SigV4 header into details that tempauth checks against
        // the user's key); copy, slo (multipart uploads are SLOs) and dlo after auth, as s3api's docs ask.
        // tempauth insists on a memcache client in the environment: platform_dict_cache gives it an in-process dict
        // instead of a memcached server.
        await File.WriteAllTextAsync(Path.Combine(_directory, "proxy-server.conf"), $"""
            [DEFAULT]
            bind_ip = 127.0.0.1
            bind_port = {proxyPort}
            swift_dir = {_directory}
            cert_file = {CaCertificatePath}
            key_file = {Path.Combine(_directory, "key.pem")}
            log_name = proxy-server
            log_level = INFO

            [pipeline:main]
            pipeline = catch_errors gatekeeper healthcheck proxy-logging dictcache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

            [app:proxy-server]
            use = egg:swift#proxy
            account_autocreate = true

            [filter:dictcache]
            paste.filter_factory = platform_dict_cache:filter_factory

            [filter:s3api]
            use = egg:swift#s3api
            location = {Region}

            [filter:tempauth]
            use = egg:swift#tempauth
            user_test_tester = {SecretKey} .admin

            [filter:catch_errors]
            use = egg:swift#catch_errors

            [filter:gatekeeper]
            use = egg:swift#gatekeeper

            [filter:healthcheck]
            use = egg:swift#healthcheck

            [filter:proxy-logging]
            use = egg:swift#proxy_logging

            [filter:listing_formats]
            use = egg:swift#listing_formats

            [filter:copy]
            use = egg:swift#copy

            [filter:slo]
            use = egg:swift#slo

            [filter:dlo]
            use = egg:swift#dlo
            """);

        // One Python process for all four servers (see LauncherScript); storage servers first, so that the rings
        // (built from their configs) exist when the proxy loads them.
        var info = new ProcessStartInfo(Python) { UseShellExecute = false, WorkingDirectory = _directory };
        info.Environment["PYTHONPATH"] = _directory;
        info.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        foreach (var a in new[] { Path.Combine(_directory, "launch.py"), _directory, Path.Combine(_directory, "swift.log") }
                     .Concat(ports.Keys.Append("proxy").Select(n => $"{n}-server={Path.Combine(_directory, $"{n}-server.conf")}")))
        {
            info.ArgumentList.Add(a);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("could not start the Swift servers");
        await WaitUntilReadyAsync(ports.Values.Append(proxyPort).ToList());
    }

    private async Task WaitUntilReadyAsync(List<int> ports)
    {
        using var timeout = new CancellationTokenSource(StartTimeout);
        var pending = new List<int>(ports);
        Exception? last = null;
        while (true)
        {
            if (_process is { HasExited: true } dead)
            {
                throw new InvalidOperationException($"the Swift servers exited ({dead.ExitCode}) during start-up; logs in {_directory}:\n{ReadLogs()}");
            }

            if (timeout.IsCancellationRequested)
            {
                throw new TimeoutException($"Swift did not answer S3 calls within {StartTimeout.TotalSeconds} s (last error: {last?.Message}); logs:\n{ReadLogs()}");
            }

            try
            {
                // Every server listening, then one authenticated S3 call through the proxy.
                foreach (var port in pending.ToList())
                {
                    using var tcp = new TcpClient();
                    await tcp.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
                    pending.Remove(port);
                }

                using var client = CreateClient();
                await client.ListBucketsAsync(timeout.Token);
                return;
            }
            catch (Exception ex) when (ex is SocketException or AmazonS3Exception or HttpRequestException or IOException or OperationCanceledException)
            {
                last = ex;
            }

            await Task.Delay(100, CancellationToken.None);
        }
    }

    private void Stop()
    {
        if (Interlocked.Exchange(ref _process, null) is { } process)
        {
            try
            {
                // Nothing to flush or save: a throwaway server is simply killed.
                process.Kill();
                process.WaitForExit(5_000);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }

            process.Dispose();
        }

        try
        {
            // PLATFORM_TEST_KEEP_SWIFT=1 keeps the folder (configs, logs) for a look after the run.
            if (Environment.GetEnvironmentVariable("PLATFORM_TEST_KEEP_SWIFT") != "1")
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort at process exit: a leftover temp folder is not worth failing a run for.
        }
    }

    private static string ReadLogs(string directory)
    {
        var text = new StringBuilder();
        foreach (var log in Directory.Exists(directory) ? Directory.GetFiles(directory, "*.log").Order().ToArray() : [])
        {
            string content;
            try
            {
                content = File.ReadAllText(log);
            }
            catch (IOException ex)
            {
                content = ex.Message;
            }

            text.Append("== ").AppendLine(Path.GetFileName(log)).AppendLine(content.Length > 4000 ? "..." + content[^4000..] : content);
        }

        return text.ToString();
    }

    private static async Task RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        Process? process;
        try
        {
            process = Process.Start(info);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new InvalidOperationException($"{file} could not be started ({ex.Message}): install the Debian/Ubuntu package '{file}'.", ex);
        }

        using var started = process ?? throw new InvalidOperationException($"could not start {file}");
        var stdout = started.StandardOutput.ReadToEndAsync();
        var stderr = started.StandardError.ReadToEndAsync();
        await started.WaitForExitAsync();
        if (started.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {started.ExitCode}: {await stderr}{await stdout}");
        }
    }
}
