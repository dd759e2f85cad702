using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Platform.Core.Admin;
using Platform.Core.Catalog;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Core.Tests.Catalog;

/// <summary>Two catalogs over one database, as Api and Web run: a reload in one reaches the other.</summary>
public sealed class CatalogGenerationTests : IAsyncLifetime
{
    private readonly CatalogFolder _folder = new();
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var connectionString = await (await PostgresServer.GetAsync()).CreateDatabaseAsync("catalog");
        await DatabaseMigrator.MigrateAsync(connectionString);
        var services = new ServiceCollection();
        services.AddScoped(_ => DatabaseMigrator.CreateContext(connectionString));
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(new PlatformOptions()));
        services.AddScoped<SettingsService>();
        services.AddSingleton<ICatalogGenerationStore, SettingsCatalogGenerationStore>();
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _folder.Dispose();
    }

    private ModuleCatalog NewCatalog(double syncSeconds) => new(new CatalogOptions { Folder = _folder.Path, SyncSeconds = syncSeconds },
        generations: _services.GetRequiredService<ICatalogGenerationStore>());

    [Fact]
    public async Task ReloadInOneProcess_ReachesTheOther_OnItsNextSync()
    {
        _folder.Write("one", CatalogFolder.Manifest("one"));
        var api = NewCatalog(syncSeconds: 3600);
        var web = NewCatalog(syncSeconds: 3600);
        Assert.Single((await api.GetAsync()).Modules);
        Assert.Single((await web.GetAsync()).Modules);
        Assert.False(await web.SyncAsync());

        _folder.Write("two", CatalogFolder.Manifest("two"));
        Assert.Single(web.Current.Modules); // a folder change alone is not a reload
        Assert.True((await api.ReloadAsync()).Succeeded);

        Assert.Equal(2, api.Current.Modules.Count);
        Assert.False(await api.SyncAsync()); // its own reload is already loaded
        Assert.True(await web.SyncAsync());
        Assert.Equal(["one", "two"], web.Current.Modules.Select(m => m.Name));
        Assert.False(await web.SyncAsync());
    }

    [Fact]
    public async Task ReadingCurrent_CatchesUpByItself_OnceTheSyncIntervalHasPassed()
    {
        _folder.Write("one", CatalogFolder.Manifest("one"));
        var api = NewCatalog(syncSeconds: 3600);
        var web = NewCatalog(syncSeconds: 0);
        Assert.Single(web.Current.Modules);

        _folder.Write("two", CatalogFolder.Manifest("two"));
        await api.ReloadAsync();

        // GetAsync checks when due and waits for the reload; Current starts the same check in the background.
        Assert.Equal(2, (await web.GetAsync()).Modules.Count);
        _folder.Write("three", CatalogFolder.Manifest("three"));
        await api.ReloadAsync();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (web.Current.Modules.Count != 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        Assert.Equal(3, web.Current.Modules.Count);
    }
}
