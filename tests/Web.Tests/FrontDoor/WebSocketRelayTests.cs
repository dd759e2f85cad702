using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Platform.Web.Tests.FrontDoor;

[Collection(FrontDoorCollection.Name)]
public sealed class WebSocketRelayTests(FrontDoorFixture fixture)
{
    private TestUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task Relay_CarriesTheHandshakeHeaders_AndTheSubProtocolTheUpstreamChose()
    {
        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("platform.v1");
        socket.Options.AddSubProtocol("platform.v2");
        socket.Options.SetRequestHeader("Cookie", "session=abc");
        socket.Options.SetRequestHeader("Authorization", "Bearer pk_ws");
        socket.Options.SetRequestHeader("Origin", "https://platform.example");

        await socket.ConnectAsync(WebSocketUri($"/api/ws/echo/{NewKey()}?access_token=t%2B1"), Timeout());

        Assert.Equal("platform.v2", socket.SubProtocol);
        var handshake = JsonSerializer.Deserialize<Dictionary<string, string?>>(await ReceiveMessageAsync(socket))!;
        Assert.EndsWith("?access_token=t%2B1", handshake["rawTarget"]);
        Assert.Equal("session=abc", handshake["cookie"]);
        Assert.Equal("Bearer pk_ws", handshake["authorization"]);
        Assert.Equal("https://platform.example", handshake["origin"]);
        Assert.Equal("127.0.0.1", handshake["forwardedFor"]);
        Assert.Equal(fixture.Web.Address.Authority, handshake["forwardedHost"]);
    }

    [Fact]
    public async Task Relay_EchoesTextBinaryAndFragmentedMessages_BothWays()
    {
        using var socket = await ConnectEchoAsync(NewKey());

        await socket.SendAsync("hello"u8.ToArray(), WebSocketMessageType.Text, true, Timeout());
        Assert.Equal("hello", await ReceiveMessageAsync(socket));

        // Larger than both the relay's and the upstream's buffers, so it crosses each hop in several frames.
        var binary = new byte[200_000];
        Random.Shared.NextBytes(binary);
        await socket.SendAsync(binary, WebSocketMessageType.Binary, true, Timeout());
        var (type, echoed) = await ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Binary, type);
        Assert.Equal(binary, echoed);

        await socket.SendAsync("frag-"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: false, Timeout());
        await socket.SendAsync("ment"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, Timeout());
        Assert.Equal("frag-ment", await ReceiveMessageAsync(socket));
    }

    [Fact]
    public async Task Relay_PassesTheClientsClose_ToTheUpstream_AndItsAnswerBack()
    {
        var key = NewKey();
        using var socket = await ConnectEchoAsync(key);

        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", Timeout());

        Assert.Equal("1000|bye", await Upstream.WaitAsync($"{key}:closed"));
        Assert.Equal(WebSocketState.Closed, socket.State);
        Assert.Equal(WebSocketCloseStatus.NormalClosure, socket.CloseStatus);
        Assert.Equal("bye", socket.CloseStatusDescription);
    }

    [Fact]
    public async Task Relay_PassesTheUpstreamsClose_ToTheClient()
    {
        var key = NewKey();
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(WebSocketUri($"/api/ws/close/{key}"), Timeout());
        Assert.Equal("bye", await ReceiveMessageAsync(socket));

        var close = await socket.ReceiveAsync(new byte[16], Timeout());

        Assert.Equal(WebSocketMessageType.Close, close.MessageType);
        Assert.Equal((WebSocketCloseStatus)4001, socket.CloseStatus);
        Assert.Equal("server done", socket.CloseStatusDescription);
        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, Timeout());
        Assert.Equal(nameof(WebSocketState.Closed), await Upstream.WaitAsync($"{key}:done"));
    }

    [Fact]
    public async Task Relay_DropsTheUpstream_WhenTheClientConnectionBreaks()
    {
        var key = NewKey();
        var socket = await ConnectEchoAsync(key);

        socket.Abort();
        socket.Dispose();

        await Upstream.WaitAsync($"{key}:aborted");
        Assert.False(Upstream.Signal($"{key}:closed").Task.IsCompleted);
    }

    [Fact]
    public async Task Relay_AnswersBadGatewayProblem_WhenTheUpstreamRefusesTheHandshake()
    {
        // The handshake by hand, as ClientWebSocket hides the body of a refused one.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/ws/refuse");
        request.Headers.Connection.Add("Upgrade");
        request.Headers.Upgrade.Add(new System.Net.Http.Headers.ProductHeaderValue("websocket"));
        request.Headers.Add("Sec-WebSocket-Version", "13");
        request.Headers.Add("Sec-WebSocket-Key", Convert.ToBase64String(Guid.NewGuid().ToByteArray()));

        using var response = await fixture.Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
        Assert.Equal("The api service refused the WebSocket handshake with HTTP 403.", problem!.Detail);
    }

    /// <summary>Connects to the echo endpoint and reads past its handshake report.</summary>
    private async Task<ClientWebSocket> ConnectEchoAsync(string key)
    {
        var socket = new ClientWebSocket();
        await socket.ConnectAsync(WebSocketUri($"/api/ws/echo/{key}"), Timeout());
        await ReceiveMessageAsync(socket);
        return socket;
    }

    private Uri WebSocketUri(string pathAndQuery) => new($"ws://{fixture.Web.Address.Authority}{pathAndQuery}");

    internal static async Task<string> ReceiveMessageAsync(WebSocket socket)
    {
        var (type, data) = await ReceiveAsync(socket);
        Assert.Equal(WebSocketMessageType.Text, type);
        return Encoding.UTF8.GetString(data);
    }

    /// <summary>Receives one whole message, however many frames it arrives in.</summary>
    internal static async Task<(WebSocketMessageType Type, byte[] Data)> ReceiveAsync(WebSocket socket)
    {
        using var message = new MemoryStream();
        var buffer = new byte[8192];
        while (true)
        {
            var received = await socket.ReceiveAsync(buffer, Timeout());
            message.Write(buffer, 0, received.Count);
            if (received.EndOfMessage)
            {
                return (received.MessageType, message.ToArray());
            }
        }
    }

    internal static CancellationToken Timeout() => new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token;

    private static string NewKey() => Guid.NewGuid().ToString("N");
}
