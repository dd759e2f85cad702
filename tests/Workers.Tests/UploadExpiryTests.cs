using System.Collections.Concurrent;
using System.Reflection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Accounts;
using Platform.Core.Datasets;
using Platform.Core.Persistence;
using Platform.Core.Storage;
using Platform.Tests.Fixtures;
using Platform.Workers.Datasets;

namespace Platform.Workers.Tests;

public sealed class UploadExpiryTests : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"platform-expiry-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public async Task Sweep_AbortsExpiredUploadsInTheStore_AndDeletesTheirRows_LeavingOpenOnes()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("expiry");
        await DatabaseMigrator.MigrateAsync(database);
        await using var workers = new WebApplicationFactory<WorkersMarker>().WithWebHostBuilder(b => b
            .UseSetting("ConnectionStrings:platformdb", database)
            .UseSetting("ConnectionStrings:objectstore", $"Folder={_folder}"));
        _ = workers.Server;
        var store = workers.Services.GetRequiredService<IObjectStore>();
        await store.EnsureReadyAsync();
        await using var db = DatabaseMigrator.CreateContext(database);
        var artifactId = await ArtifactAsync(db);
        var expired = await OpenUploadAsync(db, store, artifactId, DateTimeOffset.UtcNow.AddMinutes(-1));
        var open = await OpenUploadAsync(db, store, artifactId, DateTimeOffset.UtcNow.AddHours(1));

        var sweeper = workers.Services.GetServices<Microsoft.Extensions.Hosting.IHostedService>().OfType<UploadExpiryService>().Single();
        // The service's own first sweep (at start) may have raced this one to it: either way it is done once.
        Assert.InRange(await sweeper.SweepAsync(CancellationToken.None), 0, 1);

        await Assert.ThrowsAsync<KeyNotFoundException>(() => store.ListPartsAsync(expired.ObjectKey, expired.StoreUploadId));
        Assert.Single(await store.ListPartsAsync(open.ObjectKey, open.StoreUploadId));
        Assert.Equal([open.Id], await db.Uploads.AsNoTracking().Select(u => u.Id).ToListAsync());
        Assert.Equal([open.Id], await db.UploadParts.AsNoTracking().Select(p => p.UploadId).ToListAsync());
        Assert.Equal(0, await sweeper.SweepAsync(CancellationToken.None));
    }

    [Fact]
    public async Task SeveralWorkersSweepingAtOnce_AbortEachUploadExactlyOnce()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("expiry_race");
        await DatabaseMigrator.MigrateAsync(database);
        var inner = new FileSystemObjectStore(_folder);
        await inner.EnsureReadyAsync();
        var aborts = new ConcurrentDictionary<string, int>();
        var store = CountingStore.Wrap(inner, aborts);
        await using (var db = DatabaseMigrator.CreateContext(database))
        {
            var artifactId = await ArtifactAsync(db);
            for (var i = 0; i < 24; i++)
            {
                await OpenUploadAsync(db, inner, artifactId, DateTimeOffset.UtcNow.AddMinutes(-1 - i));
            }
        }

        async Task<int> WorkerAsync()
        {
            var total = 0;
            while (true)
            {
                await using var db = DatabaseMigrator.CreateContext(database);
                var aborted = await new ExpiredUploads(db, store, TimeProvider.System).AbortBatchAsync(3);
                total += aborted;
                if (aborted == 0)
                {
                    return total;
                }
            }
        }

        var counts = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(WorkerAsync)));
        Assert.Equal(24, counts.Sum());
        Assert.Equal(24, aborts.Count);
        Assert.All(aborts.Values, n => Assert.Equal(1, n));
        await using var check = DatabaseMigrator.CreateContext(database);
        Assert.Empty(await check.Uploads.AsNoTracking().ToListAsync());
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_folder, ".uploads")));
    }

    private static async Task<Guid> ArtifactAsync(PlatformDbContext db)
    {
        var account = new Account { Id = Guid.CreateVersion7(), Name = "expiring", CreatedAt = DateTimeOffset.UtcNow };
        var artifact = new Artifact { Id = Guid.CreateVersion7(), AccountId = account.Id, Name = "data", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Accounts.Add(account);
        db.Artifacts.Add(artifact);
        await db.SaveChangesAsync();
        return artifact.Id;
    }

    /// <summary>An upload with one part in the store and its row, as the API leaves it.</summary>
    private static async Task<Upload> OpenUploadAsync(PlatformDbContext db, IObjectStore store, Guid artifactId, DateTimeOffset expiresAt)
    {
        var key = $"accounts/{Guid.NewGuid():N}/objects/{Guid.CreateVersion7():N}";
        var storeId = await store.StartMultipartAsync(key);
        var part = await store.UploadPartAsync(key, storeId, 1, new MemoryStream(new byte[100]), 100);
        var upload = new Upload
        {
            Id = Guid.CreateVersion7(), ArtifactId = artifactId, Path = "big.bin", ObjectKey = key, StoreUploadId = storeId,
            Size = 20_000_000, PartSize = UploadLimits.DefaultPartSize, CreatedAt = expiresAt.AddDays(-1), ExpiresAt = expiresAt,
        };
        db.Uploads.Add(upload);
        db.UploadParts.Add(new UploadPart { UploadId = upload.Id, Number = 1, Size = part.Length, ETag = part.ETag });
        await db.SaveChangesAsync();
        return upload;
    }

    /// <summary>The store, counting multipart aborts per upload id and making each slow enough for sweeps to overlap.</summary>
    public class CountingStore : DispatchProxy
    {
        private IObjectStore _inner = null!;
        private ConcurrentDictionary<string, int> _aborts = null!;

        public static IObjectStore Wrap(IObjectStore inner, ConcurrentDictionary<string, int> aborts)
        {
            var proxy = Create<IObjectStore, CountingStore>();
            var counting = (CountingStore)(object)proxy;
            counting._inner = inner;
            counting._aborts = aborts;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IObjectStore.AbortMultipartAsync))
            {
                _aborts.AddOrUpdate((string)args![1]!, 1, (_, n) => n + 1);
                Thread.Sleep(20);
            }

            return targetMethod.Invoke(_inner, args);
        }
    }
}
