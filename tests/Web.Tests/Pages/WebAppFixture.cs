using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Web.Tests.Pages;

/// <summary>
/// Web in process over a fresh, migrated database of its own: one per test class (xunit class fixture), so a class's
/// tests share the app's start-up cost but never another class's rows. Tests inside a class use their own addresses.
/// </summary>
public sealed class WebAppFixture : IAsyncLifetime
{
    public const string PublicUrl = "http://localhost";

    private WebApplicationFactory<WebMarker>? _factory;

    /// <summary>Configuration on top of the defaults (e.g. Platform:Catalog:Folder), set before <see cref="InitializeAsync"/>.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    public string ConnectionString { get; private set; } = "";

    public string ObjectFolder { get; } = Path.Combine(Path.GetTempPath(), $"platform-web-objects-{Guid.NewGuid():N}");

    public WebApplicationFactory<WebMarker> Factory => _factory ?? throw new InvalidOperationException("Not initialised.");

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        ConnectionString = await server.CreateDatabaseAsync("web");
        await DatabaseMigrator.MigrateAsync(ConnectionString);
        _factory = new WebApplicationFactory<WebMarker>().WithWebHostBuilder(b => b
            .UseSetting("ConnectionStrings:platformdb", ConnectionString)
            .UseSetting("Platform:PublicUrl", PublicUrl)
            // Dataset files land in a folder of this class's own, removed with it.
            .UseSetting("ConnectionStrings:objectstore", $"Folder={ObjectFolder}")
            // Nothing listens there: the api health card reports it, and the front door (once merged) needs an address.
            .UseSetting("services:api:http:0", "http://127.0.0.1:1")
            .UseSetting("Logging:LogLevel:Default", "Warning")
            .ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(Settings.Select(s => KeyValuePair.Create(s.Key, (string?)s.Value)))));
    }

    /// <summary>A browser of its own: separate cookies (session, antiforgery), redirects reported rather than followed.</summary>
    public Browser NewBrowser() => new(Factory.CreateClient(new WebApplicationFactoryClientOptions
    {
        AllowAutoRedirect = false,
        HandleCookies = true,
        BaseAddress = new Uri(PublicUrl),
    }));

    /// <summary>A user registered through the page and signed in in a new browser.</summary>
    public async Task<Browser> NewUserAsync(string? email = null, string? name = null)
    {
        var browser = NewBrowser();
        await browser.RegisterAsync(email ?? NewEmail(), name ?? "Test User");
        return browser;
    }

    public static string NewEmail(string who = "user") => $"{who}-{Guid.NewGuid():N}@example.org";

    public PlatformDbContext Db() => DatabaseMigrator.CreateContext(ConnectionString);

    /// <summary>The newest mail to an address, as the outbox holds it.</summary>
    public async Task<Platform.Core.Mail.OutboxMessage> LastMailToAsync(string to)
    {
        await using var db = Db();
        return await db.Outbox.AsNoTracking().Where(m => m.To == to).OrderByDescending(m => m.CreatedAt).FirstAsync();
    }

    public async Task DisposeAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (Directory.Exists(ObjectFolder))
        {
            Directory.Delete(ObjectFolder, recursive: true);
        }
    }
}
