using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Platform.Api.Live;

namespace Platform.Web.Tests.Live;

/// <summary>
/// A board as tests see it, on Microsoft's <see cref="HubConnection"/>: every "Points" message in arrival order, the
/// catch-ups, and the last step per series, with which it subscribes again after a reconnect (as live.js does).
/// </summary>
public sealed class BoardClient : IAsyncDisposable
{
    private readonly Lock gate = new();
    private readonly Dictionary<string, List<long>> arrived = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<double>> values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> lastSteps = new(StringComparer.Ordinal);
    private readonly List<JsonElement> runUpdates = [];
    private readonly List<JsonElement> held = [];
    private Guid? runId;
    private bool subscribing;
    private int resyncs;

    private BoardClient(HubConnection connection, WebSocketConnectionFactory factory)
    {
        Connection = connection;
        Factory = factory;
        connection.On<JsonElement>("Points", message =>
        {
            Assert.Equal(runId, message.GetProperty("runId").GetGuid());
            lock (gate)
            {
                if (subscribing)
                {
                    // Joined before the catch-up was read: what comes meanwhile is taken after it, as live.js does.
                    held.Add(message.GetProperty("series"));
                    return;
                }
            }

            Take(message.GetProperty("series"), live: true);
        });
        connection.On<JsonElement>("RunUpdated", message =>
        {
            lock (gate)
            {
                runUpdates.Add(message);
            }
        });
        connection.On("resync", () => Interlocked.Increment(ref resyncs));
        connection.Reconnected += async _ =>
        {
            if (runId is { } id)
            {
                CatchUps.Add(await SubscribeAsync(id));
            }
        };
    }

    public HubConnection Connection { get; }
    public WebSocketConnectionFactory Factory { get; }
    public List<JsonElement> CatchUps { get; } = [];

    /// <summary>Points that came in "Points" messages whose step was not above the series' last (order broken or repeated).</summary>
    public int OutOfOrder { get; private set; }

    public int LiveMessages { get; private set; }

    public int Resyncs => Volatile.Read(ref resyncs);

    public static async Task<BoardClient> ConnectAsync(Uri web, CookieContainer? cookies = null, string? accessToken = null, bool reconnect = false)
    {
        var (connection, factory) = HubClient.Create(web, LiveHub.Path, cookies, accessToken, reconnect ? new RetryAtOnce() : null);
        var board = new BoardClient(connection, factory);
        await connection.StartAsync();
        return board;
    }

    /// <summary>SubscribeRun with the last steps seen (none the first time); the catch-up's points are taken in.</summary>
    public async Task<JsonElement> SubscribeAsync(Guid id)
    {
        runId = id;
        Dictionary<string, long> last;
        lock (gate)
        {
            last = new Dictionary<string, long>(lastSteps, StringComparer.Ordinal);
            subscribing = true;
        }

        JsonElement catchUp;
        try
        {
            catchUp = await Connection.InvokeAsync<JsonElement>("SubscribeRun", id, last);
        }
        catch
        {
            lock (gate)
            {
                subscribing = false;
                held.Clear();
            }

            throw;
        }

        lock (gate)
        {
            Take(catchUp.GetProperty("series"), live: false);
            foreach (var series in held)
            {
                Take(series, live: true);
            }

            held.Clear();
            subscribing = false;
        }

        return catchUp;
    }

    private void Take(JsonElement series, bool live)
    {
        lock (gate)
        {
            if (live)
            {
                LiveMessages++;
            }

            foreach (var s in series.EnumerateObject())
            {
                if (!arrived.TryGetValue(s.Name, out var steps))
                {
                    arrived[s.Name] = steps = [];
                    values[s.Name] = [];
                }

                foreach (var row in s.Value.EnumerateArray())
                {
                    var step = row[0].GetInt64();
                    var last = lastSteps.GetValueOrDefault(s.Name, -1);
                    if (step <= last)
                    {
                        // A point both the catch-up and a live message carried (they overlap by design) is taken once.
                        if (live && !steps.Contains(step))
                        {
                            OutOfOrder++;
                        }

                        continue;
                    }

                    Assert.True(row[1].GetInt64() > 1_700_000_000_000, "at is Unix milliseconds");
                    steps.Add(step);
                    values[s.Name].Add(SeriesPoints.ReadValue(row[2]));
                    lastSteps[s.Name] = step;
                }
            }
        }
    }

    public IReadOnlyList<long> Steps(string series)
    {
        lock (gate)
        {
            return arrived.TryGetValue(series, out var steps) ? steps.ToList() : [];
        }
    }

    public IReadOnlyList<double> Values(string series)
    {
        lock (gate)
        {
            return values.TryGetValue(series, out var v) ? v.ToList() : [];
        }
    }

    public IReadOnlyList<JsonElement> RunUpdates()
    {
        lock (gate)
        {
            return runUpdates.ToList();
        }
    }

    public long LastStep(string series)
    {
        lock (gate)
        {
            return lastSteps.GetValueOrDefault(series, -1);
        }
    }

    /// <summary>Waits until every series has its steps up to <paramref name="step"/>.</summary>
    public async Task WaitForAsync(long step, TimeSpan timeout, params string[] series)
    {
        using var until = new CancellationTokenSource(timeout);
        while (series.Any(s => LastStep(s) < step))
        {
            if (until.IsCancellationRequested)
            {
                throw new TimeoutException($"After {timeout}: {string.Join(", ", series.Select(s => $"{s} at {LastStep(s)}"))}, waiting for {step}.");
            }

            await Task.Delay(10, CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
