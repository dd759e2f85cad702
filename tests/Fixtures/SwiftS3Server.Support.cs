using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Platform.Tests.Fixtures;

/// <summary>The fixture's folder handling and the Python it runs Swift with.</summary>
public sealed partial class SwiftS3Server
{
    /// <summary>
    /// Swift keeps object metadata in user xattrs: use the temp folder when its filesystem has them (ext4, xfs,
    /// btrfs, tmpfs on newer kernels), else /var/tmp.
    /// </summary>
    private static string CreateFolderWithXattrs()
    {
        var name = $"{FolderPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}"[..44];
        foreach (var root in new[] { Path.GetTempPath(), "/var/tmp" }.Distinct())
        {
            var directory = Path.Combine(root, name);
            Directory.CreateDirectory(directory);
            var value = "1"u8.ToArray();
            if (SetXattr(directory, "user.platform.test", value, value.Length, 0) == 0)
            {
                return directory;
            }

            Directory.Delete(directory);
        }

        throw new InvalidOperationException(
            $"Swift needs user extended attributes, which neither {Path.GetTempPath()} nor /var/tmp supports here (mount with user_xattr, or set TMPDIR).");
    }

    [DllImport("libc", EntryPoint = "setxattr", SetLastError = true)]
    private static extern int SetXattr([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [MarshalAs(UnmanagedType.LPUTF8Str)] string name, byte[] value, nint size, int flags);

    /// <summary>Removes folders left by test processes that are gone (their servers exit with them, see the launcher).</summary>
    private static void SweepLeftovers()
    {
        foreach (var root in new[] { Path.GetTempPath(), "/var/tmp" }.Distinct().Where(Directory.Exists))
        {
            foreach (var folder in Directory.EnumerateDirectories(root, FolderPrefix + "*"))
            {
                var pidText = Path.GetFileName(folder)[FolderPrefix.Length..].Split('-')[0];
                if (!int.TryParse(pidText, out var pid) || Directory.Exists($"/proc/{pid}")
                    || Environment.GetEnvironmentVariable("PLATFORM_TEST_KEEP_SWIFT") == "1")
                {
                    continue;
                }

                try
                {
                    Directory.Delete(folder, recursive: true);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Another user's folder, or one being removed right now: not ours to fight over.
                }
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// Runs the four Swift servers in one Python process (one interpreter importing Swift once: ~1 s of CPU instead
    /// of four times that; each server keeps its own config, socket and WSGI pipeline, all in one eventlet hub, as
    /// run_wsgi does with workers = 0), with this folder's swift.conf instead of /etc/swift/swift.conf, logging to one
    /// file, and exiting when the test process is gone. It first builds the account, container and object rings
    /// (one device, one replica, part power 0): what swift-ring-builder create/add/rebalance do, through the same
    /// library. Runs as the current user: nothing calls Swift's drop_privileges.
    /// </summary>
    private const string LauncherScript = """
        import os, sys, time, _thread, faulthandler
        swift_dir, log_file = sys.argv[1:3]
        servers = [a.split('=', 1) for a in sys.argv[3:]]

        log = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 1)
        os.dup2(log, 2)
        faulthandler.enable()

        # A real thread (started before eventlet's monkey patching, using the unpatched functions) that ends the
        # servers when the test process is gone (this one is then re-parented), even when that process was killed.
        def watch_parent(parent=os.getppid(), getppid=os.getppid, write=os.write, sleep=time.sleep, exit=os._exit):
            while getppid() == parent:
                sleep(0.5)
            write(2, b'launch.py: the test process is gone, exiting\n')
            exit(0)

        _thread.start_new_thread(watch_parent, ())

        from swift.common import utils
        utils.SWIFT_CONF_FILE = os.path.join(swift_dir, 'swift.conf')
        utils.validate_configuration()
        from swift.common import storage_policy
        storage_policy.reload_storage_policies()
        from swift.common import wsgi
        from swift.common.ring import RingBuilder

        for section, conf_file in servers:
            kind = section[:-len('-server')]
            if kind != 'proxy':
                conf = wsgi.appconfig(conf_file, name=section)
                builder = RingBuilder(0, 1, 0)
                builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': int(conf['bind_port']),
                                 'device': 'd1', 'weight': 100, 'meta': ''})
                builder.rebalance()
                builder.get_ring().save(os.path.join(swift_dir, kind + '.ring.gz'))

        # What run_wsgi/run_server do for one server without workers, here for all four in one hub.
        utils.eventlet_monkey_patch()
        import eventlet, eventlet.wsgi
        os.environ['TZ'] = 'UTC+0'
        time.tzset()
        eventlet.hubs.use_hub(utils.get_hub())
        running = []
        for section, conf_file in servers:
            conf, logger, log_name = wsgi._initrp(conf_file, section, verbose=True)
            sock = wsgi.get_socket(conf)
            app = wsgi.loadapp(conf_file, global_conf={'log_name': log_name})
            running.append(eventlet.spawn(
                eventlet.wsgi.server, sock, app, utils.NullLogger(),
                custom_pool=wsgi.RestrictedGreenPool(size=1024), protocol=wsgi.SwiftHttpProtocol,
                socket_timeout=60, capitalize_response_headers=False))
            logger.info('listening on %s:%s', conf['bind_ip'], conf['bind_port'])
        for server in running:
            server.wait()
        """;

    /// <summary>The memcache client tempauth requires, as a dict in the proxy process (one proxy, no workers).</summary>
    private const string DictCacheScript = """
        import time


        class DictCache(object):
            def __init__(self):
                self._items = {}

            def get(self, key, raise_on_error=False):
                item = self._items.get(key)
                if item is None:
                    return None
                if item[1] and item[1] < time.time():
                    self._items.pop(key, None)
                    return None
                return item[0]

            def set(self, key, value, serialize=True, time=0, min_compress_len=0, raise_on_error=False):
                self._items[key] = (value, _now() + time if time else 0)

            def incr(self, key, delta=1, time=0):
                value = int(self.get(key) or 0) + delta
                self.set(key, value, time=time)
                return value

            def decr(self, key, delta=1, time=0):
                return self.incr(key, -delta, time)

            def delete(self, key, server_key=None):
                self._items.pop(key, None)

            def get_multi(self, keys, server_key):
                return [self.get(k) for k in keys]

            def set_multi(self, mapping, server_key, serialize=True, time=0, min_compress_len=0):
                for k, v in mapping.items():
                    self.set(k, v, time=time)


        def _now():
            return time.time()


        def filter_factory(global_conf, **local_conf):
            cache = DictCache()

            def factory(app):
                def middleware(env, start_response):
                    env['swift.cache'] = cache
                    return app(env, start_response)
                return middleware
            return factory
        """;
}
