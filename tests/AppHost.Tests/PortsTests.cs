using System.Net;
using System.Net.Sockets;
using Platform.AppHost.Hosting;
using Platform.AppHost.Processes;

namespace Platform.AppHost.Tests;

public class PortsTests
{
    [Fact]
    public void Choose_TakesTheDefaultWhenItIsFree()
    {
        var port = Ports.PickFree(IPAddress.Loopback);

        Assert.Equal((port, null), Ports.Choose(IPAddress.Loopback, null, port, "Web"));
    }

    [Fact]
    public void Choose_FallsBackToAFreePortWithANote_WhenTheDefaultIsTaken()
    {
        using var holder = Hold(out var taken);

        var (port, note) = Ports.Choose(IPAddress.Loopback, null, taken, "Web");

        Assert.NotEqual(taken, port);
        Assert.True(Ports.IsFree(IPAddress.Loopback, port));
        Assert.Equal($"Port {taken} is taken; Web uses port {port} instead.", note);
    }

    [Fact]
    public void Choose_FailsClearly_WhenTheFixedPortIsTaken()
    {
        using var holder = Hold(out var taken);

        var failure = Assert.Throws<StartupFailure>(() => Ports.Choose(IPAddress.Loopback, taken, 5080, "Web"));

        Assert.Contains($"Port {taken} on 127.0.0.1 for Web is taken", failure.Message);
        Assert.Contains("--port N", failure.Message);
    }

    [Fact]
    public void Choose_PicksAnyFreePort_ForPortZero()
    {
        var (port, note) = Ports.Choose(IPAddress.Loopback, 0, 5080, "Web");

        Assert.InRange(port, 1, 65535);
        Assert.Null(note);
    }

    [Fact]
    public void PickFree_NeverHandsOutTheSamePortTwiceInOneRun()
    {
        var taken = new HashSet<int>();
        var ports = Enumerable.Range(0, 10).Select(_ => Ports.PickFree(IPAddress.Loopback, taken)).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
    }

    private static TcpListener Hold(out int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        port = ((IPEndPoint)listener.LocalEndpoint).Port;
        return listener;
    }
}
