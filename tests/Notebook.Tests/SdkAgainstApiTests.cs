using System.Diagnostics;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Platform.Api;
using Platform.Core.AccessKeys;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Notebook.Tests;

/// <summary>The Api on a real Kestrel port over a fresh PostgreSQL database, with the fixed test catalog.</summary>
public sealed class LiveApi : WebApplicationFactory<ApiMarker>, IAsyncLifetime
{
    private string _connectionString = "";
    private readonly string _objects = Path.Combine(Path.GetTempPath(), $"platform-sdk-objects-{Guid.NewGuid():N}");

    public Uri Address { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        _connectionString = await server.CreateDatabaseAsync("sdk");
        await DatabaseMigrator.MigrateAsync(_connectionString);
        UseKestrel(0);
        StartServer();
        Address = new Uri(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (Directory.Exists(_objects))
        {
            Directory.Delete(_objects, recursive: true);
        }
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:platformdb", _connectionString);
        builder.UseSetting("ConnectionStrings:objectstore", $"Folder={_objects}");
        builder.UseSetting("Platform:PublicUrl", "http://platform.test");
        builder.UseEnvironment("Production");
        builder.ConfigureServices(s =>
        {
            s.RemoveAll<IModuleCatalog>();
            s.AddSingleton<IModuleCatalog>(StaticModuleCatalog.Default);
        });
    }

    /// <summary>A registered user and a fresh full-scope access key of theirs.</summary>
    public async Task<(Guid Id, string Email, string Key)> CreateUserAsync(string name)
    {
        using var scope = Services.CreateScope();
        var email = $"{name}-{Guid.NewGuid():N}@example.test";
        var registered = await scope.ServiceProvider.GetRequiredService<RegistrationService>()
            .RegisterAsync(new RegisterRequest(email, "correct horse 42 battery", name, null));
        Assert.True(registered.IsSuccess, registered.Error?.Message);
        var key = await scope.ServiceProvider.GetRequiredService<AccessKeyService>()
            .CreateAsync(registered.Value!.Id, new CreateAccessKeyRequest("sdk tests", "full", null));
        return (registered.Value.Id, email, key.Value!.Key);
    }

    /// <summary>Does what Workers do when they launch a deployment: a fresh workload key, its hash recorded, observed running.</summary>
    public async Task<string> LaunchAsync(Guid deploymentId)
    {
        var key = WorkloadKeys.New(deploymentId);
        var hash = Secrets.Hash(key);
        using var scope = Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Deployments.Where(d => d.Id == deploymentId)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.TokenHash, hash).SetProperty(d => d.Observed, ObservedState.Running));
        return key;
    }

    public async Task<Guid> DeploymentAsync(Guid ownerId)
    {
        using var scope = Services.CreateScope();
        var created = await scope.ServiceProvider.GetRequiredService<DeploymentService>()
            .CreateAsync(ownerId, new CreateDeploymentRequest(null, "development", "kernel", null, null, null, null, null, null, null, null, null, "open sesame 42"));
        Assert.True(created.IsSuccess, created.Error?.Message);
        return created.Value!.Id;
    }
}

/// <summary>
/// The SDK and <c>plat</c> against the real Api (Notebook/sdk/live_tests, run with unittest): a workload's environment
/// alone configures <c>platformsdk.Client()</c>, and the deployments API and CLI do what they say.
/// </summary>
public sealed class SdkAgainstApiTests(LiveApi api) : IClassFixture<LiveApi>
{
    [Fact]
    public async Task InsideADeployment_ClientNeedsOnlyTheEnvironment_AndDeploymentsWorkFromSdkAndCli()
    {
        var owner = await api.CreateUserAsync("sdk-owner");
        var sharee = await api.CreateUserAsync("sdk-sharee");
        var deploymentId = await api.DeploymentAsync(owner.Id);
        var workloadKey = await api.LaunchAsync(deploymentId);

        var output = await SdkUnitTests.RunPythonAsync("Notebook/sdk", ["-m", "unittest", "discover", "-s", "live_tests", "-v"], new()
        {
            // Exactly what a launched workload gets, and nothing else: no config file anywhere.
            ["PLATFORM_API_URL"] = api.Address.ToString(),
            ["PLATFORM_API_KEY"] = workloadKey,
            ["PLATFORM_DEPLOYMENT_ID"] = deploymentId.ToString(),
            ["PLATFORM_TEST_OWNER_ID"] = owner.Id.ToString(),
            ["PLATFORM_TEST_OWNER_KEY"] = owner.Key,
            ["PLATFORM_TEST_SHAREE_EMAIL"] = sharee.Email,
            ["PLATFORM_TEST_SHAREE_KEY"] = sharee.Key,
        });
        Assert.Matches(@"Ran [1-9]\d* tests?", output);
        Assert.DoesNotContain("skipped", output);
    }
}
