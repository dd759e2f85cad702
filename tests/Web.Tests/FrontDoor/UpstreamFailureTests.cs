using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using Microsoft.AspNetCore.Mvc;
using Platform.Web.FrontDoor;

namespace Platform.Web.Tests.FrontDoor;

[Collection(FrontDoorCollection.Name)]
public sealed class UpstreamFailureTests(FrontDoorFixture fixture)
{
    [Fact]
    public async Task Forward_AnswersBadGatewayProblem_WhenTheUpstreamRefusesConnections()
    {
        var dead = WebFront.DeadAddress();
        await using var web = WebFront.StartFor(dead);
        using var client = web.CreateRawClient();

        using var response = await client.GetAsync("/api/v1/jobs");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        var problem = System.Text.Json.JsonSerializer.Deserialize<ProblemDetails>(body, System.Text.Json.JsonSerializerOptions.Web)!;
        Assert.Equal(502, problem.Status);
        Assert.Equal("Upstream unreachable", problem.Title);
        Assert.Contains("api", problem.Detail);
        Assert.DoesNotContain(dead.Port.ToString(), body);
    }

    [Fact]
    public async Task Forward_AnswersBadGatewayProblem_WhenTheUpstreamBreaksOffBeforeItsBody()
    {
        using var response = await fixture.Client.GetAsync($"/api/broken/{Guid.NewGuid():N}/0");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("Upstream failed", problem!.Title);
    }

    [Fact]
    public async Task Forward_AbortsTheClientConnection_WhenTheUpstreamBreaksOffMidBody()
    {
        var key = Guid.NewGuid().ToString("N");
        using var response = await fixture.Client.GetAsync($"/api/broken/{key}/100000", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];
        Assert.NotEqual(0, await body.ReadAsync(buffer));

        fixture.Upstream.Signal($"{key}:break").TrySetResult("");

        // The client must not take a truncated body for a whole one: its read fails instead of ending.
        await Assert.ThrowsAnyAsync<IOException>(async () =>
        {
            while (await body.ReadAsync(buffer) > 0)
            {
            }
        });
    }

    [Fact]
    public async Task Forward_AnswersGatewayTimeoutProblem_AndCancelsTheUpstream_WhenItIsTooSlow()
    {
        await using var web = WebFront.StartFor(fixture.Upstream.Address, null, ("FrontDoor:RequestTimeout", "00:00:01"));
        using var client = web.CreateRawClient();
        var key = Guid.NewGuid().ToString("N");

        using var response = await client.GetAsync($"/api/wait/{key}");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("Upstream timed out", problem!.Title);
        await fixture.Upstream.WaitAsync($"{key}:aborted");
    }

    [Fact]
    public async Task Forward_AnswersGatewayTimeout_WhenTheUpstreamAcceptsNoConnection()
    {
        using var unresponsive = await UnresponsiveListener.StartAsync();
        await using var web = WebFront.StartFor(unresponsive.Address, null,
            ("FrontDoor:ConnectTimeout", "00:00:01"), ("FrontDoor:RequestTimeout", "00:01:00"));
        using var client = web.CreateRawClient();
        var started = System.Diagnostics.Stopwatch.StartNew();

        using var response = await client.GetAsync("/api/v1/jobs");

        // Well before the request timeout: the connect timeout answered.
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(30));
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal("Upstream timed out", problem!.Title);
    }

    [Fact]
    public async Task Forward_LetsHubRequestsOutliveTheRequestTimeout_ForLongPolling()
    {
        await using var web = WebFront.StartFor(fixture.Upstream.Address, null, ("FrontDoor:RequestTimeout", "00:00:01"));
        using var client = web.CreateRawClient();
        var hubKey = Guid.NewGuid().ToString("N");
        var apiKey = Guid.NewGuid().ToString("N");
        var hubRequest = client.GetAsync($"/hubs/wait/{hubKey}");
        await fixture.Upstream.WaitAsync($"{hubKey}:started");

        // An /api request started after the hub request timing out proves the limit has passed for both.
        using var timedOut = await client.GetAsync($"/api/wait/{apiKey}");
        Assert.Equal(HttpStatusCode.GatewayTimeout, timedOut.StatusCode);
        fixture.Upstream.Signal($"{hubKey}:release").TrySetResult("");

        using var response = await hubRequest;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("released", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Relay_AnswersBadGateway_WhenTheUpstreamIsDown()
    {
        await using var web = WebFront.StartFor(WebFront.DeadAddress());
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        await Assert.ThrowsAsync<WebSocketException>(
            () => socket.ConnectAsync(new Uri($"ws://{web.Address.Authority}/hubs/board"), WebSocketRelayTests.Timeout()));

        Assert.Equal(HttpStatusCode.BadGateway, socket.HttpStatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1/")]
    public void Web_FailsAtStartup_WithAClearMessage_WhenTheApiAddressIsMissingOrInvalid(string value)
    {
        var settings = new Dictionary<string, string?>
        {
            [FrontDoorExtensions.ApiHttpKey] = value,
            [FrontDoorExtensions.ApiHttpsKey] = "",
        };

        var failure = Record.Exception(() => WebFront.Start(settings).Dispose());

        Assert.NotNull(failure);
        Assert.Contains("services__api__http__0", failure.ToString());
    }

    [Fact]
    public async Task Web_UsesTheHttpsApiAddress_WhenNoHttpOneIsGiven()
    {
        var settings = new Dictionary<string, string?>
        {
            [FrontDoorExtensions.ApiHttpKey] = "",
            // Nothing listens there; what matters is that Web starts and tries that address.
            [FrontDoorExtensions.ApiHttpsKey] = WebFront.DeadAddress().ToString().Replace("http://", "https://"),
        };
        await using var web = WebFront.Start(settings);
        using var client = web.CreateRawClient();

        using var response = await client.GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
    }
}
