using System.Net;
using System.Net.Sockets;
using Platform.AppHost.Hosting;

namespace Platform.AppHost.Processes;

/// <summary>
/// Port choice. A port is tested by binding it for a moment; another program could take it before the child
/// binds it, and then the child fails its health check with the bind error in its log lines.
/// </summary>
internal static class Ports
{
    public static bool IsFree(IPAddress address, int port)
    {
        try
        {
            using var listener = new TcpListener(address, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>A port the system considers free now, other than the ones already handed out in this run.</summary>
    public static int PickFree(IPAddress address, ISet<int>? taken = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new TcpListener(address, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (taken is null || taken.Add(port) || attempt > 20)
            {
                return port;
            }
        }
    }

    /// <summary>
    /// The operator's port when fixed (it must be free: they will type it into a browser), otherwise the stable
    /// default, or any free port when the default is taken, with a note saying so.
    /// </summary>
    public static (int Port, string? Note) Choose(IPAddress address, int? fixedPort, int defaultPort, string what, ISet<int>? taken = null)
    {
        if (fixedPort is 0)
        {
            return (PickFree(address, taken), null);
        }

        if (fixedPort is { } chosen)
        {
            if (!IsFree(address, chosen))
            {
                throw new StartupFailure($"Port {chosen} on {address} for {what} is taken by another program. " +
                    "Stop that program, or choose another port with --port N.");
            }

            taken?.Add(chosen);
            return (chosen, null);
        }

        if (IsFree(address, defaultPort) && (taken is null || taken.Add(defaultPort)))
        {
            return (defaultPort, null);
        }

        var port = PickFree(address, taken);
        return (port, $"Port {defaultPort} is taken; {what} uses port {port} instead.");
    }
}
