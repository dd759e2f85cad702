using System.Net.WebSockets;
using System.Text.Json;
using Xunit;

namespace Platform.Tests.Fixtures;

/// <summary>
/// The Jupyter messaging protocol over a kernel's <c>…/api/kernels/{id}/channels</c> websocket, as tests speak it: a
/// message in its JSON envelope on the shell channel, and whole messages read back.
/// </summary>
public static class JupyterKernelSocket
{
    /// <summary>Sends <paramref name="type"/> with its content on the shell channel; returns the message's id.</summary>
    public static async Task<string> SendAsync(ClientWebSocket socket, string type, object content, string? session = null, CancellationToken ct = default)
    {
        var id = Guid.NewGuid().ToString("N");
        var message = new
        {
            header = new { msg_id = id, username = "platform-tests", session = session ?? Guid.NewGuid().ToString("N"), msg_type = type, version = "5.3", date = DateTimeOffset.UtcNow.ToString("O") },
            parent_header = new { },
            metadata = new { },
            content,
            channel = "shell",
            buffers = Array.Empty<object>(),
        };
        await socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(message), WebSocketMessageType.Text, endOfMessage: true, ct);
        return id;
    }

    /// <summary>Reads one whole message; a socket the kernel closes fails the test.</summary>
    public static async Task<JsonElement> ReceiveAsync(ClientWebSocket socket, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, ct);
            Assert.NotEqual(WebSocketMessageType.Close, result.MessageType);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return JsonDocument.Parse(message.ToArray()).RootElement;
    }

    public static string? TypeOf(JsonElement message) => message.GetProperty("header").GetProperty("msg_type").GetString();

    public static string? ParentOf(JsonElement message) =>
        message.TryGetProperty("parent_header", out var parent) && parent.TryGetProperty("msg_id", out var id) ? id.GetString() : null;
}
