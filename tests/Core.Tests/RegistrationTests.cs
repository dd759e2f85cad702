using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Accounts;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Persistence;
using Platform.Tests.Fixtures;

namespace Platform.Core.Tests;

public sealed class RegistrationTests : IAsyncLifetime
{
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.GetAsync();
        var database = await server.CreateDatabaseAsync("registration");
        await DatabaseMigrator.MigrateAsync(database);
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:platformdb"] = database })
            .Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddPlatformCore(configuration);
        services.AddPlatformIdentity();
        _services = services.BuildServiceProvider();
    }

    public async Task DisposeAsync() => await _services.DisposeAsync();

    private async Task<Result<PlatformUser>> RegisterAsync(string email, string? token = null)
    {
        using var scope = _services.CreateScope();
        return await scope.ServiceProvider.GetRequiredService<RegistrationService>()
            .RegisterAsync(new RegisterRequest(email, "long enough 12345", email.Split('@')[0], token));
    }

    [Fact]
    public async Task ConcurrentFirstRegistrations_MakeExactlyOneAdmin()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => RegisterAsync($"racer{i}@example.test")));
        Assert.All(results, r => Assert.True(r.IsSuccess, r.Error?.Message));
        Assert.Single(results, r => r.Value!.IsPlatformAdmin);

        using var scope = _services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<PlatformDbContext>();
        Assert.Equal(6, await db.Accounts.CountAsync());
        Assert.Equal(6, await db.Memberships.CountAsync(m => m.Role == AccountRole.Master));
    }

    [Fact]
    public async Task DuplicateEmail_IsAFieldErrorOnEmail_AnyCase()
    {
        Assert.True((await RegisterAsync("same@example.test")).IsSuccess);
        var again = await RegisterAsync("SAME@example.test");
        Assert.Equal(ErrorKind.Validation, again.Error!.Kind);
        Assert.Equal(["A user with this e-mail address already exists. Sign in, or reset your password."], again.Error.Fields!["email"]);
    }

    [Fact]
    public async Task WeakPassword_IsAFieldErrorOnPassword()
    {
        using var scope = _services.CreateScope();
        var result = await scope.ServiceProvider.GetRequiredService<RegistrationService>()
            .RegisterAsync(new RegisterRequest("weak@example.test", "short", "Weak", null));
        Assert.Equal(ErrorKind.Validation, result.Error!.Kind);
        Assert.Contains(result.Error.Fields!["password"], m => m.Contains("10", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InviteOnly_RefusesStrangers_ButAcceptsTheInvited()
    {
        var master = (await RegisterAsync("master@example.test")).Value!;
        using (var scope = _services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<SettingsService>().SetRegistrationModeAsync(RegistrationMode.InviteOnly);
            var invited = await scope.ServiceProvider.GetRequiredService<InvitationService>()
                .CreateAsync(master.Id, master.CurrentAccountId!.Value, new CreateInvitationRequest("guest@example.test", "viewer"));
            Assert.True(invited.IsSuccess);
        }

        var stranger = await RegisterAsync("stranger@example.test");
        Assert.Equal(ErrorKind.Forbidden, stranger.Error!.Kind);

        string token;
        using (var scope = _services.CreateScope())
        {
            var mail = await scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Outbox.SingleAsync(m => m.To == "guest@example.test");
            token = System.Text.RegularExpressions.Regex.Match(mail.TextBody, "token=([A-Za-z0-9]+)").Groups[1].Value;
        }

        var wrongAddress = await RegisterAsync("other@example.test", token);
        Assert.Contains("guest@example.test", wrongAddress.Error!.Fields!["email"][0]);

        var guest = await RegisterAsync("guest@example.test", token);
        Assert.True(guest.IsSuccess, guest.Error?.Message);
        using var check = _services.CreateScope();
        var roles = await check.ServiceProvider.GetRequiredService<AccountService>().ListForUserAsync(guest.Value!.Id);
        Assert.Contains(roles, a => a.Id == master.CurrentAccountId && a.Role == "viewer");
        Assert.Equal(2, roles.Count);
    }
}
