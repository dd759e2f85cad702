using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Platform.Web.Tests.Live;

/// <summary>
/// A SignalR client speaking the JSON hub protocol over a raw WebSocket (the .NET client is not in our package
/// registry): negotiate, handshake, invoke, and the messages the server sends, one record at a time.
/// </summary>
public sealed class HubSocket : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';
    private readonly ClientWebSocket socket = new();
    private readonly Channel<JsonElement> records = Channel.CreateUnbounded<JsonElement>();
    private readonly CancellationTokenSource stop = new();
    private Task reading = Task.CompletedTask;
    private int invocations;

    private HubSocket()
    {
    }

    /// <summary>Negotiates with <paramref name="http"/> (its cookies or bearer key are the identity) and connects.</summary>
    public static async Task<HubSocket> ConnectAsync(Uri web, string path, HttpClient http, CookieContainer? cookies = null, string? accessToken = null)
    {
        var query = accessToken is null ? "" : $"&access_token={Uri.EscapeDataString(accessToken)}";
        using var negotiate = await http.PostAsync($"{path}/negotiate?negotiateVersion=1{query}", null);
        Assert.True(negotiate.StatusCode == HttpStatusCode.OK, $"negotiate: {(int)negotiate.StatusCode} {await negotiate.Content.ReadAsStringAsync()}");
        var token = (await negotiate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("connectionToken").GetString()!;

        var hub = new HubSocket();
        if (cookies is not null)
        {
            hub.socket.Options.Cookies = cookies;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await hub.socket.ConnectAsync(new Uri($"ws://{web.Authority}{path}?id={Uri.EscapeDataString(token)}{query}"), timeout.Token);
        await hub.SendAsync("{\"protocol\":\"json\",\"version\":1}");
        hub.reading = hub.ReadAsync();
        var handshake = await hub.NextAsync(_ => true, TimeSpan.FromSeconds(20));
        Assert.False(handshake.TryGetProperty("error", out var error), $"handshake refused: {error}");
        return hub;
    }

    /// <summary>Invokes a hub method; returns the completion (with <c>result</c> or <c>error</c>).</summary>
    public async Task<JsonElement> InvokeAsync(string target, params object?[] arguments)
    {
        var id = Interlocked.Increment(ref invocations).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendAsync(JsonSerializer.Serialize(new { type = 1, invocationId = id, target, arguments }));
        return await NextAsync(r => Type(r) == 3 && r.GetProperty("invocationId").GetString() == id, TimeSpan.FromSeconds(20));
    }

    /// <summary>The arguments of the next message the server sends with this target, skipping everything else.</summary>
    public async Task<JsonElement> NextMessageAsync(string target, TimeSpan timeout, Func<JsonElement, bool>? where = null)
    {
        var message = await NextAsync(r => Type(r) == 1 && r.GetProperty("target").GetString() == target
            && (where is null || where(FirstArgument(r))), timeout);
        return FirstArgument(message);
    }

    /// <summary>A message's argument (the hub sends at most one); the empty array for a message without.</summary>
    private static JsonElement FirstArgument(JsonElement message) =>
        message.GetProperty("arguments") is { } arguments && arguments.GetArrayLength() > 0 ? arguments[0] : arguments;

    /// <summary>Every message with this target that arrives within <paramref name="window"/>.</summary>
    public async Task<List<JsonElement>> MessagesWithinAsync(string target, TimeSpan window)
    {
        var found = new List<JsonElement>();
        using var until = new CancellationTokenSource(window);
        try
        {
            while (true)
            {
                var record = await records.Reader.ReadAsync(until.Token);
                if (Type(record) == 1 && record.GetProperty("target").GetString() == target)
                {
                    found.Add(FirstArgument(record));
                }
            }
        }
        catch (OperationCanceledException)
        {
            return found;
        }
    }

    private async Task<JsonElement> NextAsync(Func<JsonElement, bool> match, TimeSpan timeout)
    {
        using var until = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var record = await records.Reader.ReadAsync(until.Token);
                if (Type(record) == 7)
                {
                    throw new InvalidOperationException($"The server closed the connection: {record}");
                }

                if (match(record))
                {
                    return record;
                }
            }
        }
        catch (OperationCanceledException) when (until.IsCancellationRequested)
        {
            throw new TimeoutException($"Nothing matching arrived within {timeout}.");
        }
    }

    private static int Type(JsonElement record) => record.TryGetProperty("type", out var type) ? type.GetInt32() : 0;

    private Task SendAsync(string record) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(record + RecordSeparator), WebSocketMessageType.Text, true, stop.Token);

    private async Task ReadAsync()
    {
        var buffer = new byte[64 * 1024];
        var pending = new StringBuilder();
        try
        {
            while (socket.State == WebSocketState.Open)
            {
                var received = await socket.ReceiveAsync(buffer, stop.Token);
                if (received.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                pending.Append(Encoding.UTF8.GetString(buffer, 0, received.Count));
                var text = pending.ToString();
                var end = text.LastIndexOf(RecordSeparator);
                if (end < 0)
                {
                    continue;
                }

                foreach (var record in text[..end].Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries))
                {
                    records.Writer.TryWrite(JsonDocument.Parse(record).RootElement.Clone());
                }

                pending.Clear().Append(text[(end + 1)..]);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException)
        {
            // Closed by the test or the server; readers time out or see the close record.
        }
        finally
        {
            records.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await reading;
        socket.Dispose();
        stop.Dispose();
    }
}
