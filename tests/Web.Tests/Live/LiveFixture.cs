using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Api;
using Platform.Api.Live;
using Platform.Core.Catalog;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;
using Platform.Web.Tests.FrontDoor;
using Platform.Web.Tests.Pages;

namespace Platform.Web.Tests.Live;

/// <summary>The Api on a real port (hub and relay running) with Web's front door before it, over one database.</summary>
public sealed class LiveFixture : IAsyncLifetime
{
    public string ConnectionString { get; private set; } = "";
    public ApiServer Api { get; private set; } = null!;
    public WebFront Web { get; private set; } = null!;
    private string objects = Path.Combine(Path.GetTempPath(), $"platform-live-{Guid.NewGuid():N}");

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        ConnectionString = await server.CreateDatabaseAsync("live");
        await DatabaseMigrator.MigrateAsync(ConnectionString);
        // Both processes sign cookies with one key, as the AppHost arranges: the session made by Web is good at Api.
        KeyRing.Ensure(ConnectionString);
        Api = ApiServer.Start(ConnectionString, objects);
        await Api.Services.GetRequiredService<LiveRelay>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        await Api.Services.GetRequiredService<MetricsLive>().Listening.WaitAsync(TimeSpan.FromSeconds(30));
        Web = WebFront.StartFor(Api.Address, null,
            ("ConnectionStrings:platformdb", ConnectionString), ("ConnectionStrings:objectstore", $"Folder={objects}"),
            ("Platform:PublicUrl", "http://localhost"));
    }

    /// <summary>A person with a browser of their own: registered through Web's page, so signed in by its cookie.</summary>
    public async Task<Person> NewPersonAsync(string name)
    {
        var cookies = new CookieContainer();
        var http = new HttpClient(new SocketsHttpHandler { CookieContainer = cookies, UseProxy = false, AllowAutoRedirect = false })
        {
            BaseAddress = Web.Address,
            Timeout = TimeSpan.FromSeconds(60),
        };
        var browser = new Browser(http);
        var email = WebAppFixture.NewEmail(name);
        await browser.RegisterAsync(email, name);
        await using var db = DatabaseMigrator.CreateContext(ConnectionString);
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == email);
        return new Person(user.Id, user.CurrentAccountId!.Value, http, cookies);
    }

    public Task<HubSocket> ConnectAsync(Person person) => HubSocket.ConnectAsync(Web.Address, LiveHub.Path, person.Http, person.Cookies);

    public async Task<T> WithApiAsync<T>(Func<IServiceProvider, Task<T>> action)
    {
        using var scope = Api.Services.CreateScope();
        return await action(scope.ServiceProvider);
    }

    public async Task DisposeAsync()
    {
        await Web.DisposeAsync();
        await Api.DisposeAsync();
        if (Directory.Exists(objects))
        {
            Directory.Delete(objects, recursive: true);
        }
    }
}

public sealed record Person(Guid Id, Guid AccountId, HttpClient Http, CookieContainer Cookies);

/// <summary>Api itself, from its own Program, on a real Kestrel port, with the fixed test catalog.</summary>
public sealed class ApiServer : WebApplicationFactory<ApiMarker>
{
    private readonly string connectionString;
    private readonly string objects;

    private ApiServer(string connectionString, string objects)
    {
        this.connectionString = connectionString;
        this.objects = objects;
        UseKestrel(0);
    }

    public Uri Address { get; private set; } = null!;

    public static ApiServer Start(string connectionString, string objects)
    {
        var api = new ApiServer(connectionString, objects);
        try
        {
            api.StartServer();
            api.Address = new Uri(api.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
            return api;
        }
        catch
        {
            api.Dispose();
            throw;
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:platformdb", connectionString);
        builder.UseSetting("ConnectionStrings:objectstore", $"Folder={objects}");
        builder.UseSetting("Platform:PublicUrl", "http://localhost");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseEnvironment("Production");
        builder.ConfigureServices(s =>
        {
            s.RemoveAll<IModuleCatalog>();
            s.AddSingleton<IModuleCatalog>(StaticModuleCatalog.Default);
        });
    }
}
