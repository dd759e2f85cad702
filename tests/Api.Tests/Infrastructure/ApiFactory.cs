using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Api;
using Platform.Core.AccessKeys;
using Platform.Core.Accounts;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Api.Tests.Infrastructure;

/// <summary>The Api over a fresh, migrated PostgreSQL database of its own (one per test class).</summary>
public class ApiFactory : WebApplicationFactory<ApiMarker>, IAsyncLifetime
{
    public const long DefaultBodyLimit = Platform.Api.Infrastructure.RequestSizeGuard.DefaultLimit;

    private string _connectionString = "";
    private string _objectStore = "";
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<TestUser>>> _named = new();
    private int _userCounter;

    public string ConnectionString => _connectionString;

    /// <summary>This factory's filesystem object store, under the temp folder.</summary>
    public string ObjectsFolder { get; } = Path.Combine(Path.GetTempPath(), $"platform-api-objects-{Guid.NewGuid():N}");

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        _connectionString = await server.CreateDatabaseAsync("api");
        await DatabaseMigrator.MigrateAsync(_connectionString);
        _objectStore = await ObjectStoreAsync();
    }

    /// <summary>The objectstore connection string: a filesystem folder here, a real S3 bucket in <see cref="S3ApiFactory"/>.</summary>
    protected virtual Task<string> ObjectStoreAsync() => Task.FromResult($"Folder={ObjectsFolder}");

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(ObjectsFolder))
        {
            Directory.Delete(ObjectsFolder, recursive: true);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:platformdb", _connectionString);
        builder.UseSetting("ConnectionStrings:objectstore", _objectStore);
        builder.UseSetting("Platform:PublicUrl", "http://platform.test");
        builder.UseEnvironment("Production");
    }

    /// <summary>Registers a user (through the real registration service) and gives a client carrying a fresh full-scope key.</summary>
    public async Task<TestUser> CreateUserAsync(string? name = null, string scope = "full")
    {
        var n = Interlocked.Increment(ref _userCounter);
        name ??= $"user{n}";
        var email = $"{name}-{Guid.NewGuid():N}@example.test";
        using var scope1 = Services.CreateScope();
        var registration = scope1.ServiceProvider.GetRequiredService<RegistrationService>();
        var registered = await registration.RegisterAsync(new RegisterRequest(email, "correct horse 42 battery", name, null));
        Assert.True(registered.IsSuccess, registered.Error?.Message);
        var user = registered.Value!;
        var key = await CreateKeyAsync(user.Id, scope);
        var accountId = user.CurrentAccountId!.Value;
        return new TestUser(user.Id, email, accountId, key, ClientWithKey(key));
    }

    /// <summary>One user per name for the whole test class, created on first use (the first one ever is the platform admin).</summary>
    public Task<TestUser> NamedUserAsync(string name) =>
        _named.GetOrAdd(name, n => new Lazy<Task<TestUser>>(() => CreateUserAsync(n))).Value;

    public async Task<string> CreateKeyAsync(Guid userId, string scope = "full", DateTimeOffset? expiresAt = null)
    {
        using var scope1 = Services.CreateScope();
        var keys = scope1.ServiceProvider.GetRequiredService<AccessKeyService>();
        var created = await keys.CreateAsync(userId, new CreateAccessKeyRequest("test key", scope, expiresAt));
        Assert.True(created.IsSuccess, created.Error?.Message);
        return created.Value!.Key;
    }

    public HttpClient ClientWithKey(string key)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<T> WithDbAsync<T>(Func<PlatformDbContext, Task<T>> action)
    {
        using var scope = Services.CreateScope();
        return await action(scope.ServiceProvider.GetRequiredService<PlatformDbContext>());
    }

    /// <summary>The token in the newest invitation e-mail to <paramref name="email"/>, read from the outbox as a person reads mail.</summary>
    public async Task<string> InvitationTokenFromOutboxAsync(string email)
    {
        var body = await WithDbAsync(db => db.Outbox.Where(m => m.To == email).OrderByDescending(m => m.CreatedAt).Select(m => m.TextBody).FirstAsync());
        var match = System.Text.RegularExpressions.Regex.Match(body, @"token=([A-Za-z0-9]+)");
        Assert.True(match.Success, $"no invitation link in: {body}");
        return match.Groups[1].Value;
    }

    /// <summary>Adds <paramref name="member"/> to <paramref name="accountId"/> the way people do it: an invitation accepted.</summary>
    public async Task JoinAsync(TestUser master, Guid accountId, TestUser member, string role)
    {
        var invite = await master.Client.PostAsJsonAsync($"/api/v1/accounts/{accountId}/invitations", new { email = member.Email, role });
        Assert.Equal(System.Net.HttpStatusCode.Created, invite.StatusCode);
        var token = await InvitationTokenFromOutboxAsync(member.Email);
        var accept = await member.Client.PostAsJsonAsync("/api/v1/invitations/accept", new { token });
        Assert.Equal(System.Net.HttpStatusCode.OK, accept.StatusCode);
    }
}

public sealed record TestUser(Guid Id, string Email, Guid AccountId, string Key, HttpClient Client);

/// <summary>The API over a real S3 server (Swift's s3api from the fixtures) with a bucket of its own.</summary>
public sealed class S3ApiFactory : ApiFactory
{
    public SwiftS3Server S3 { get; private set; } = null!;

    protected override async Task<string> ObjectStoreAsync()
    {
        S3 = await SwiftS3Server.GetAsync();
        var bucket = await S3.CreateBucketAsync("api");
        return $"Endpoint={S3.Endpoint};Bucket={bucket};AccessKey={S3.AccessKey};SecretKey={S3.SecretKey};" +
            $"Region={S3.Region};CaCertificate={S3.CaCertificatePath}";
    }
}

/// <summary>
/// The API with the fixed test catalog (StaticModuleCatalog) in place of the built-in modules, so deployment tests
/// know exactly which modules and ranges exist.
/// </summary>
public sealed class StaticCatalogApiFactory : ApiFactory
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s =>
        {
            s.RemoveAll<Platform.Core.Catalog.IModuleCatalog>();
            s.AddSingleton<Platform.Core.Catalog.IModuleCatalog>(StaticModuleCatalog.Default);
        });
    }
}
