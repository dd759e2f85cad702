using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Notifications;

namespace Platform.Api.Tests;

public sealed class NotificationsApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private async Task<long> AddAsync(TestUser user, string title, string kind = "test.note")
    {
        using var scope = factory.Services.CreateScope();
        var added = await scope.ServiceProvider.GetRequiredService<NotificationService>()
            .AddAsync(user.Id, kind, title, $"{title}: the message", "/Deployments", user.AccountId);
        return added.Id;
    }

    private static async Task<int> UnreadAsync(TestUser user) =>
        (await user.Client.GetFromJsonAsync<JsonElement>("/api/v1/notifications/unread-count")).GetProperty("count").GetInt32();

    [Fact]
    public async Task Notifications_AreListedNewestFirst_KeysetPaged_AndCountedUntilRead()
    {
        var alice = await factory.CreateUserAsync("alice");
        var ids = new List<long>();
        for (var i = 1; i <= 5; i++)
        {
            ids.Add(await AddAsync(alice, $"Note {i}"));
        }

        Assert.Equal(5, await UnreadAsync(alice));
        var first = await alice.Client.GetFromJsonAsync<JsonElement>("/api/v1/notifications?pageSize=2");
        Assert.Equal(["Note 5", "Note 4"], first.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("title").GetString()!).ToArray());
        var before = first.GetProperty("nextBefore").GetInt64();
        Assert.Equal(ids[3], before);
        var second = await alice.Client.GetFromJsonAsync<JsonElement>($"/api/v1/notifications?pageSize=2&before={before}");
        Assert.Equal(["Note 3", "Note 2"], second.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("title").GetString()!).ToArray());
        var last = await alice.Client.GetFromJsonAsync<JsonElement>($"/api/v1/notifications?pageSize=2&before={second.GetProperty("nextBefore").GetInt64()}");
        Assert.Equal("Note 1", last.GetProperty("items").EnumerateArray().Single().GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Null, last.GetProperty("nextBefore").ValueKind);
        var note = last.GetProperty("items")[0];
        Assert.Equal("test.note", note.GetProperty("kind").GetString());
        Assert.Equal("Note 1: the message", note.GetProperty("message").GetString());
        Assert.Equal("/Deployments", note.GetProperty("link").GetString());
        Assert.Equal(alice.AccountId, note.GetProperty("accountId").GetGuid());
        Assert.Equal(JsonValueKind.Null, note.GetProperty("readAt").ValueKind);

        var read = await alice.Client.PostAsync($"/api/v1/notifications/{ids[1]}/read", null);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.NotEqual(JsonValueKind.Null, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("readAt").ValueKind);
        Assert.Equal(4, await UnreadAsync(alice));
        var unread = await alice.Client.GetFromJsonAsync<JsonElement>("/api/v1/notifications?unread=true");
        Assert.DoesNotContain("Note 2", unread.GetProperty("items").EnumerateArray().Select(n => n.GetProperty("title").GetString()));
        Assert.Equal(4, unread.GetProperty("items").GetArrayLength());

        var all = await alice.Client.PostAsync("/api/v1/notifications/read-all", null);
        Assert.Equal(0, (await all.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("count").GetInt32());
        Assert.Equal(0, await UnreadAsync(alice));
        Assert.Equal(5, (await alice.Client.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetProperty("items").GetArrayLength());
    }

    [Fact]
    public async Task SomeoneElsesNotification_IsNotFound_AndStaysUnread()
    {
        var owner = await factory.CreateUserAsync("owner");
        var other = await factory.CreateUserAsync("other");
        var id = await AddAsync(owner, "Private");

        var problem = await (await other.Client.PostAsync($"/api/v1/notifications/{id}/read", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.Equal("Notification was not found.", problem.Detail());
        await other.Client.PostAsync("/api/v1/notifications/read-all", null);
        Assert.Empty((await other.Client.GetFromJsonAsync<JsonElement>("/api/v1/notifications")).GetProperty("items").EnumerateArray());
        Assert.Equal(0, await UnreadAsync(other));
        Assert.Equal(1, await UnreadAsync(owner));
        await (await owner.Client.PostAsync("/api/v1/notifications/999999999/read", null)).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Adding_NotifiesTheNotificationsChannel_WithTheRecipientsId()
    {
        var user = await factory.CreateUserAsync("listener");
        await using var connection = new NpgsqlConnection(factory.ConnectionString);
        await connection.OpenAsync();
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Notification += (_, e) =>
        {
            if (e.Channel == NotificationService.Channel && e.Payload == user.Id.ToString())
            {
                received.TrySetResult(e.Payload);
            }
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {NotificationService.Channel}", connection))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await AddAsync(user, "Wake up");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!received.Task.IsCompleted)
        {
            await connection.WaitAsync(timeout.Token);
        }

        Assert.Equal(user.Id.ToString(), await received.Task);
    }
}
