using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Platform.Web.Tests.FrontDoor;

/// <summary>
/// A real SignalR hub behind the front door, spoken to in SignalR's own wire protocol (the .NET client is not in
/// our package registry): negotiate, then each transport the browser and SDK may fall back to.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class SignalRThroughFrontDoorTests(FrontDoorFixture fixture)
{
    private const string Handshake = "{\"protocol\":\"json\",\"version\":1}\u001e";
    private const string Invocation = "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Echo\",\"arguments\":[\"through the front door\"]}\u001e";

    private HttpClient Client => fixture.Client;

    [Fact]
    public async Task Hub_NegotiatesAndAnswers_OverWebSockets()
    {
        var token = await NegotiateAsync();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://{fixture.Web.Address.Authority}/hubs/echo?id={token}"), WebSocketRelayTests.Timeout());

        await socket.SendAsync(Encoding.UTF8.GetBytes(Handshake), WebSocketMessageType.Text, true, WebSocketRelayTests.Timeout());
        Assert.Equal("{}\u001e", await WebSocketRelayTests.ReceiveMessageAsync(socket));
        await socket.SendAsync(Encoding.UTF8.GetBytes(Invocation), WebSocketMessageType.Text, true, WebSocketRelayTests.Timeout());

        string? result = null;
        while (result is null)
        {
            result = CompletionResult(await WebSocketRelayTests.ReceiveMessageAsync(socket));
        }

        Assert.Equal("through the front door", result);
    }

    [Fact]
    public async Task Hub_NegotiatesAndAnswers_OverLongPolling()
    {
        var token = await NegotiateAsync();
        await SendAsync(token, Handshake);
        await SendAsync(token, Invocation);

        string? result = null;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        while (result is null)
        {
            using var poll = await Client.GetAsync($"/hubs/echo?id={token}", deadline.Token);
            Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
            result = CompletionResult(await poll.Content.ReadAsStringAsync(deadline.Token));
        }

        Assert.Equal("through the front door", result);
    }

    [Fact]
    public async Task Hub_NegotiatesAndAnswers_OverServerSentEvents()
    {
        var token = await NegotiateAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/hubs/echo?id={token}");
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var events = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", events.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await events.Content.ReadAsStreamAsync());

        await SendAsync(token, Handshake);
        await SendAsync(token, Invocation);

        string? result = null;
        while (result is null)
        {
            var line = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.NotNull(line);
            result = line.StartsWith("data: ", StringComparison.Ordinal) ? CompletionResult(line["data: ".Length..]) : null;
        }

        Assert.Equal("through the front door", result);
    }

    private async Task<string> NegotiateAsync()
    {
        using var response = await Client.PostAsync("/hubs/echo/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var negotiation = await response.Content.ReadFromJsonAsync<JsonElement>();
        return Uri.EscapeDataString(negotiation.GetProperty("connectionToken").GetString()!);
    }

    private async Task SendAsync(string token, string records)
    {
        using var response = await Client.PostAsync($"/hubs/echo?id={token}", new StringContent(records, Encoding.UTF8, "text/plain"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>The result of the completion for invocation "1" among these records, if it is there.</summary>
    private static string? CompletionResult(string records)
    {
        foreach (var record in records.Split('\u001e', StringSplitOptions.RemoveEmptyEntries))
        {
            using var message = JsonDocument.Parse(record);
            if (message.RootElement.TryGetProperty("type", out var type) && type.GetInt32() == 3)
            {
                Assert.Equal("1", message.RootElement.GetProperty("invocationId").GetString());
                return message.RootElement.GetProperty("result").GetString();
            }
        }

        return null;
    }
}
