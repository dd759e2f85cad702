using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;
using Platform.Web.FrontDoor;

namespace Platform.Web.Tests.FrontDoor;

/// <summary>Web itself, built from its own Program, listening on a real Kestrel port.</summary>
public sealed class WebFront : WebApplicationFactory<WebMarker>
{
    private readonly IReadOnlyDictionary<string, string?> settings;
    private readonly Action<IServiceCollection>? configureServices;

    private WebFront(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices)
    {
        this.settings = settings;
        this.configureServices = configureServices;
        UseKestrel(0);
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>Starts Web with these settings (the Api address among them) and any extra services.</summary>
    public static WebFront Start(IReadOnlyDictionary<string, string?> settings, Action<IServiceCollection>? configureServices = null)
    {
        var web = new WebFront(settings, configureServices);
        try
        {
            web.StartServer();
            var addresses = web.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>();
            web.Address = new Uri(addresses.Addresses.First());
            return web;
        }
        catch
        {
            web.Dispose();
            throw;
        }
    }

    /// <summary>Starts Web with its Api at <paramref name="apiAddress"/>.</summary>
    public static WebFront StartFor(Uri apiAddress, Action<IServiceCollection>? configureServices = null, params (string Key, string Value)[] extra)
    {
        var settings = new Dictionary<string, string?> { [FrontDoorExtensions.ApiHttpKey] = apiAddress.ToString() };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return Start(settings, configureServices);
    }

    /// <summary>Web needs its database even when only the front door is under test; one migrated database serves them all.</summary>
    private static readonly Lazy<string> Database = new(() => Task.Run(async () =>
    {
        var server = await PostgresServer.GetAsync();
        var connectionString = await server.CreateDatabaseAsync("frontdoor");
        await DatabaseMigrator.MigrateAsync(connectionString);
        return connectionString;
    }).GetAwaiter().GetResult());

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:platformdb", Database.Value);
        foreach (var (key, value) in settings)
        {
            builder.UseSetting(key, value);
        }

        if (configureServices is not null)
        {
            builder.ConfigureServices(configureServices);
        }
    }

    /// <summary>A client that shows what the front door answered: no redirects followed, no cookies kept, no decompression.</summary>
    public HttpClient CreateRawClient() =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        })
        {
            BaseAddress = Address,
            Timeout = TimeSpan.FromSeconds(60),
        };

    /// <summary>An address where nothing listens: a port the system just handed out and took back.</summary>
    public static Uri DeadAddress()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://127.0.0.1:{port}/");
    }
}

/// <summary>
/// An address where connections are never completed: a listener that never accepts, with its backlog filled, so
/// Linux drops further connection attempts and a connect there times out instead of being refused.
/// </summary>
public sealed class UnresponsiveListener : IDisposable
{
    private readonly Socket listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> fillers = [];

    public Uri Address { get; private set; } = null!;

    public static async Task<UnresponsiveListener> StartAsync()
    {
        var unresponsive = new UnresponsiveListener();
        unresponsive.listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        unresponsive.listener.Listen(0);
        var endpoint = (IPEndPoint)unresponsive.listener.LocalEndPoint!;
        unresponsive.Address = new Uri($"http://{endpoint}/");
        for (var i = 0; i < 16; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            unresponsive.fillers.Add(filler);
            var connect = filler.ConnectAsync(endpoint);
            // A probe, not a synchronisation: the first connect that hangs shows the backlog is full.
            if (await Task.WhenAny(connect, Task.Delay(TimeSpan.FromMilliseconds(300))) != connect)
            {
                return unresponsive;
            }
        }

        unresponsive.Dispose();
        throw new InvalidOperationException("The listen backlog never filled; this test needs Linux TCP behaviour.");
    }

    public void Dispose()
    {
        fillers.ForEach(f => f.Dispose());
        listener.Dispose();
    }
}

/// <summary>
/// One upstream and one Web in front of it, shared by the front-door tests. Web gets an extra route like the
/// a workload route like the IDE's: <c>/workload/{id}</c>, stripped, with a base path, resolved only for workload 7
/// (Web's own <c>/ide/{id}</c> route is registered too, and tested with deployments in IdeProxyTests).
/// </summary>
public sealed class FrontDoorFixture : IAsyncLifetime
{
    public const string KnownWorkload = "7";

    public TestUpstream Upstream { get; private set; } = null!;
    public WebFront Web { get; private set; } = null!;
    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Upstream = await TestUpstream.StartAsync();
        var ideBase = new Uri(Upstream.Address, "/base/");
        Web = WebFront.StartFor(Upstream.Address, services => services.AddFrontDoorRoute(_ => new FrontDoorRoute(
            "workload",
            "/workload/{id}",
            context => ValueTask.FromResult(context.Request.RouteValues["id"] as string == KnownWorkload ? ideBase : null),
            StripPrefix: true)));
        Client = Web.CreateRawClient();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Web.DisposeAsync();
        await Upstream.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class FrontDoorCollection : ICollectionFixture<FrontDoorFixture>
{
    public const string Name = "front door";
}
