using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Api.Live;
using Platform.Core.AccessKeys;
using Platform.Core.Deployments;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>
/// Live updates end to end on real components: people signed in through Web's pages, the hub reached through the
/// front door with their session cookie, changes made by DeploymentService and by a worker-like writer, and the
/// relay hearing them through PostgreSQL LISTEN/NOTIFY.
/// </summary>
public sealed class LiveUpdatesTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task AnOwner_HearsEachChangeOfTheirDeployment_InTheUserGroup_AndThroughASubscription()
    {
        var owner = await live.NewPersonAsync("owner");
        var id = await CreateDeploymentAsync(owner);
        await using var page = await live.ConnectAsync(owner);
        await using var otherTab = await live.ConnectAsync(owner);

        var subscribed = await page.InvokeAsync("SubscribeDeployment", id);
        Assert.False(subscribed.TryGetProperty("error", out var error), error.ToString());
        var current = subscribed.GetProperty("result");
        Assert.Equal("queued", current.GetProperty("observed").GetString());
        Assert.Contains(current.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString()!.StartsWith("Created by owner", StringComparison.Ordinal));

        await live.WithApiAsync(async sp => (await sp.GetRequiredService<DeploymentService>().StopAsync(owner.Id, id)).IsSuccess);
        var stopped = await page.NextMessageAsync("deployment", Soon, u => u.GetProperty("desired").GetString() == "stopped");
        Assert.Equal(id, stopped.GetProperty("id").GetGuid());
        Assert.Contains(stopped.GetProperty("events").EnumerateArray(), e => e.GetProperty("message").GetString() == "Stop requested by owner");
        // The other tab subscribed to nothing: the user group brings it the same change.
        await otherTab.NextMessageAsync("deployment", Soon, u => u.GetProperty("desired").GetString() == "stopped");

        // What Workers do on a transition: change the row, write the event, NOTIFY.
        await TransitionAsync(id, ObservedState.Stopped, "Stopped: the workspace is kept for the next start");
        var observed = await page.NextMessageAsync("deployment", Soon, u => u.GetProperty("observed").GetString() == "stopped");
        Assert.False(observed.GetProperty("openable").GetBoolean());
        Assert.Equal("Stopped: the workspace is kept for the next start", observed.GetProperty("events").EnumerateArray().Last().GetProperty("message").GetString());
        Assert.Equal(3, observed.GetProperty("eventsTotal").GetInt32());
    }

    [Fact]
    public async Task AnotherUser_IsRefusedTheSubscription_AndHearsNothingOfTheDeployment()
    {
        var owner = await live.NewPersonAsync("alice");
        var stranger = await live.NewPersonAsync("mallory");
        var id = await CreateDeploymentAsync(owner);
        await using var ownerHub = await live.ConnectAsync(owner);
        await using var strangerHub = await live.ConnectAsync(stranger);

        var refused = await strangerHub.InvokeAsync("SubscribeDeployment", id);
        Assert.Contains("not found", refused.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(refused.TryGetProperty("result", out _));

        await TransitionAsync(id, ObservedState.Starting, "Starting: launching the API of 'echo-api'");
        var heard = await ownerHub.NextMessageAsync("deployment", Soon, u => u.GetProperty("observed").GetString() == "starting");
        Assert.Equal(id, heard.GetProperty("id").GetGuid());
        // The owner heard it; the relay sent nothing else this way, so a second more is plenty for a stray message.
        Assert.Empty(await strangerHub.MessagesWithinAsync("deployment", TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task WithoutSigningIn_TheHubRefusesToNegotiate_AndToConnect()
    {
        using var anonymous = live.Web.CreateRawClient();
        using var negotiate = await anonymous.PostAsync($"{LiveHub.Path}/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, negotiate.StatusCode);

        // At Api the handshake gets 401; the front door reports a refused upgrade as 502 with the upstream's status.
        using var direct = new ClientWebSocket();
        var refused = await Assert.ThrowsAsync<WebSocketException>(() =>
            direct.ConnectAsync(new Uri($"ws://{live.Api.Address.Authority}{LiveHub.Path}"), CancellationToken.None));
        Assert.Contains("401", refused.Message);
        using var proxied = new ClientWebSocket();
        await Assert.ThrowsAsync<WebSocketException>(() =>
            proxied.ConnectAsync(new Uri($"ws://{live.Web.Address.Authority}{LiveHub.Path}"), CancellationToken.None));
    }

    [Fact]
    public async Task AnAccessKey_InTheQuery_SignsInTheSdk_AsItsUser()
    {
        var owner = await live.NewPersonAsync("sdk");
        var id = await CreateDeploymentAsync(owner);
        var key = await live.WithApiAsync(async sp =>
            (await sp.GetRequiredService<AccessKeyService>().CreateAsync(owner.Id, new CreateAccessKeyRequest("live", "read", null))).Value!.Key);

        using var client = live.Web.CreateRawClient();
        await using var hub = await HubSocket.ConnectAsync(live.Web.Address, LiveHub.Path, client, accessToken: key);
        var subscribed = await hub.InvokeAsync("SubscribeDeployment", id);
        Assert.Equal(id, subscribed.GetProperty("result").GetProperty("id").GetGuid());

        using var wrongKey = await client.PostAsync($"{LiveHub.Path}/negotiate?negotiateVersion=1&access_token=plat_nope_nope", null);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongKey.StatusCode);
    }

    [Fact]
    public async Task ANotification_IsRelayedToItsUser_AndNoOneElse()
    {
        var reader = await live.NewPersonAsync("reader");
        var other = await live.NewPersonAsync("other");
        await using var readerHub = await live.ConnectAsync(reader);
        await using var otherHub = await live.ConnectAsync(other);

        await NotifyAsync(LiveRelay.NotificationsChannel, reader.Id.ToString());
        var notification = await readerHub.NextMessageAsync("notification", Soon);
        Assert.Equal(reader.Id, notification.GetProperty("userId").GetGuid());
        Assert.Empty(await otherHub.MessagesWithinAsync("notification", TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task WhenTheRelayLosesItsListenConnection_ItListensAgain_AndTellsClientsToCatchUp()
    {
        var owner = await live.NewPersonAsync("resync");
        await using var hub = await live.ConnectAsync(owner);

        // What a database restart or a network cut does to the relay's connection (and to MetricsLive's, the other LISTEN).
        await using (var admin = new NpgsqlConnection(live.ConnectionString))
        {
            await admin.OpenAsync();
            await using var terminate = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN %'", admin);
            Assert.Equal(2L, await terminate.ExecuteScalarAsync());
        }

        await hub.NextMessageAsync("resync", Soon);
        await NotifyAsync(LiveRelay.NotificationsChannel, owner.Id.ToString());
        Assert.Equal(owner.Id, (await hub.NextMessageAsync("notification", Soon)).GetProperty("userId").GetGuid());
    }

    private async Task<Guid> CreateDeploymentAsync(Person owner) =>
        await live.WithApiAsync(async sp =>
        {
            var created = await sp.GetRequiredService<DeploymentService>().CreateAsync(owner.Id,
                new CreateDeploymentRequest(owner.AccountId, "echo-api", "Live echo", null, "api", null, null, null, null, null, null, null, null));
            Assert.True(created.IsSuccess, created.Error?.Message);
            return created.Value!.Id;
        });

    private async Task TransitionAsync(Guid id, ObservedState to, string message)
    {
        await using (var db = DatabaseMigrator.CreateContext(live.ConnectionString))
        {
            await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.Observed, to).SetProperty(d => d.UpdatedAt, DateTimeOffset.UtcNow));
            db.DeploymentEvents.Add(new DeploymentEvent { DeploymentId = id, At = DateTimeOffset.UtcNow, State = to.ToString(), Message = message });
            await db.SaveChangesAsync();
        }

        await NotifyAsync(DeploymentService.Channel, id.ToString());
    }

    private async Task NotifyAsync(string channel, string payload)
    {
        await using var connection = new NpgsqlConnection(live.ConnectionString);
        await connection.OpenAsync();
        await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
        notify.Parameters.AddWithValue("channel", channel);
        notify.Parameters.AddWithValue("payload", payload);
        await notify.ExecuteNonQueryAsync();
    }
}
