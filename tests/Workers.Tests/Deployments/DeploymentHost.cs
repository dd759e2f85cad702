using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Workers.Tests.Deployments;

/// <summary>A Workers host (its reconciler running) over a test database, with workspaces in a folder of the test's.</summary>
public sealed class DeploymentHost(string database, string workspaces, IReadOnlyDictionary<string, string>? settings = null)
    : WebApplicationFactory<WorkersMarker>
{
    public static async Task<string> NewDatabaseAsync(string prefix)
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync(prefix);
        await DatabaseMigrator.MigrateAsync(database);
        return database;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:platformdb", database);
        builder.UseSetting("Platform:Deployments:WorkspaceRoot", workspaces);
        builder.UseSetting("Platform:PublicUrl", "http://platform.test");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(s => s.AddSingleton<IModuleCatalog>(StaticModuleCatalog.Default));
    }

    public ProcessBackend Backend => Services.GetRequiredService<ProcessBackend>();

    /// <summary>A user with an account of their own, written as registration writes them.</summary>
    public async Task<Guid> CreateUserAsync(string name)
    {
        await using var db = DatabaseMigrator.CreateContext(database);
        var now = DateTimeOffset.UtcNow;
        var user = new PlatformUser { Id = Guid.CreateVersion7(), UserName = $"{name}-{Guid.NewGuid():N}@example.test", DisplayName = name, CreatedAt = now };
        user.Email = user.UserName;
        var account = new Account { Id = Guid.CreateVersion7(), Name = name, CreatedAt = now };
        account.Members.Add(new Membership { UserId = user.Id, Role = AccountRole.Master, JoinedAt = now });
        user.CurrentAccountId = account.Id;
        db.Users.Add(user);
        db.Accounts.Add(account);
        await db.SaveChangesAsync();
        return user.Id;
    }

    public async Task<T> WithServiceAsync<T>(Func<DeploymentService, Task<T>> action)
    {
        using var scope = Services.CreateScope();
        return await action(scope.ServiceProvider.GetRequiredService<DeploymentService>());
    }

    public async Task<Deployment> RowAsync(Guid id)
    {
        await using var db = DatabaseMigrator.CreateContext(database);
        return await db.Deployments.AsNoTracking().SingleAsync(d => d.Id == id);
    }

    public async Task<List<string>> EventsAsync(Guid id)
    {
        await using var db = DatabaseMigrator.CreateContext(database);
        return await db.DeploymentEvents.Where(e => e.DeploymentId == id).OrderBy(e => e.Id).Select(e => e.Message).ToListAsync();
    }

    /// <summary>Waits until the row satisfies <paramref name="done"/>; fails with the row and its events when it does not in time.</summary>
    public async Task<Deployment> WaitForAsync(Guid id, Func<Deployment, bool> done, TimeSpan? timeout = null, int pollMs = 100)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (true)
        {
            var row = await RowAsync(id);
            if (done(row))
            {
                return row;
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"deployment {id} stuck: desired {row.Desired}, observed {row.Observed}, reason {row.Reason}\n" +
                    string.Join("\n", await EventsAsync(id)));
            }

            await Task.Delay(pollMs);
        }
    }

    public static ProcessRecord Record(Deployment row) => JsonSerializer.Deserialize<ProcessRecord>(row.BackendState!)!;

    public static CreateDeploymentRequest Jupyter(string password) =>
        new(null, "development", "Notebook", null, "jupyter", null, null, null, null, null, null, [], password);

    public static Result<T> Ok<T>(Result<T> result)
    {
        Assert.True(result.IsSuccess, result.Error?.Message);
        return result;
    }
}
