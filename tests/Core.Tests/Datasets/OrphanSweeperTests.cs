using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Accounts;
using Platform.Core.Datasets;
using Platform.Core.Persistence;
using Platform.Core.Storage;
using Platform.Tests.Fixtures;

namespace Platform.Core.Tests.Datasets;

public sealed class OrphanSweeperTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-sweep-{Guid.NewGuid():N}");
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("sweep");
        await DatabaseMigrator.MigrateAsync(database);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["ConnectionStrings:platformdb"] = database,
                ["ConnectionStrings:objectstore"] = $"Folder={_root}",
            })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPlatformCore(configuration);
        services.AddPlatformIdentity();
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task Sweep_RemovesOldObjectsNoFileRefersTo_AndKeepsReferencedAndRecentOnes()
    {
        using var scope = _services.CreateScope();
        var provider = scope.ServiceProvider;
        var user = (await provider.GetRequiredService<RegistrationService>()
            .RegisterAsync(new RegisterRequest("sweeper@example.test", "long enough 12345", "Sweeper", null))).Value!;
        var datasets = provider.GetRequiredService<DatasetService>();
        var dataset = (await datasets.CreateAsync(user.Id, new CreateDatasetRequest(null, "kept", null, null, null))).Value!;
        Assert.True((await datasets.UploadAsync(user.Id, dataset.Id, "kept.bin", new MemoryStream([1, 2, 3]), 3)).IsSuccess);

        var store = provider.GetRequiredService<IObjectStore>();
        var prefix = $"accounts/{user.CurrentAccountId:N}/objects/";
        var oldOrphan = prefix + Guid.NewGuid().ToString("N");
        var newOrphan = prefix + Guid.NewGuid().ToString("N");
        await store.PutAsync(oldOrphan, new MemoryStream([9]), 1);
        await store.PutAsync(newOrphan, new MemoryStream([9]), 1);
        var twoDaysAgo = DateTime.UtcNow.AddDays(-2);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(_root, "objects"), "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(newOrphan[prefix.Length..], StringComparison.Ordinal)))
        {
            File.SetLastWriteTimeUtc(file, twoDaysAgo);
        }

        var removed = await provider.GetRequiredService<OrphanSweeper>().SweepAsync();

        Assert.Equal(1, removed);
        Assert.Null(await store.HeadAsync(oldOrphan));
        Assert.NotNull(await store.HeadAsync(newOrphan));
        await using var kept = (await datasets.OpenFileAsync(user.Id, dataset.Id, "draft", "kept.bin", null)).Value!.Reader;
        Assert.Equal(3, kept.Length);
        Assert.Equal(0, await provider.GetRequiredService<OrphanSweeper>().SweepAsync());
    }
}
