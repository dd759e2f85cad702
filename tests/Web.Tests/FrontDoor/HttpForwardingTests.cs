using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;

namespace Platform.Web.Tests.FrontDoor;

[Collection(FrontDoorCollection.Name)]
public sealed class HttpForwardingTests(FrontDoorFixture fixture)
{
    private static readonly UriCreationOptions Verbatim = new() { DangerousDisablePathAndQueryCanonicalization = true };

    private HttpClient Client => fixture.Client;
    private TestUpstream Upstream => fixture.Upstream;

    [Fact]
    public async Task Forward_PassesMethodPathQueryHeadersAndBody_ToTheUpstream()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "/api/v1/items/42?b=2&a=1&a=%20x&empty=&flag")
        {
            Content = new StringContent("{\"name\":\"résumé\"}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "pk_test");
        request.Headers.Add("Cookie", "session=abc; theme=dark");
        request.Headers.Add("X-Custom", ["one", "two"]);
        request.Headers.Accept.ParseAdd("application/json");

        var echo = await SendForEchoAsync(request);

        Assert.Equal("PUT", echo.Method);
        Assert.Equal("/api/v1/items/42?b=2&a=1&a=%20x&empty=&flag", echo.RawTarget);
        Assert.Equal("Bearer pk_test", echo.Header("Authorization"));
        Assert.Equal("session=abc; theme=dark", echo.Header("Cookie"));
        Assert.Equal("one, two", echo.Header("X-Custom"));
        Assert.Equal("application/json", echo.Header("Accept"));
        Assert.Equal("application/json; charset=utf-8", echo.Header("Content-Type"));
        var sent = Encoding.UTF8.GetBytes("{\"name\":\"résumé\"}");
        Assert.Equal(sent.Length, echo.BodyLength);
        Assert.Equal(sent.Length.ToString(), echo.Header("Content-Length"));
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(sent)), echo.BodySha256);
    }

    [Theory]
    [InlineData("/api/files/a%2Fb/c%2541/%7Euser/sp%20ace/%E2%82%AC")]
    [InlineData("/api/files/semi;colon/plus+sign/at@/comma,")]
    public async Task Forward_KeepsTheRawPath_ByteForByte(string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, VerbatimUri(path));

        var echo = await SendForEchoAsync(request);

        Assert.Equal(path, echo.RawTarget);
    }

    [Fact]
    public async Task Forward_SendsTheNormalisedPath_WhenThePathHasDotSegments()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, VerbatimUri("/api/x/../y/./%2e%2E/z?q=1"));

        var echo = await SendForEchoAsync(request);

        Assert.Equal("/api/z?q=1", echo.RawTarget);
    }

    [Fact]
    public async Task Forward_SetsXForwardedHeaders_AndAppendsToXForwardedFor()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/whoami");
        request.Headers.Host = "platform.example:8443";
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Prefix", "/spoofed");

        var echo = await SendForEchoAsync(request);

        Assert.Equal("203.0.113.7, 127.0.0.1", echo.Header("X-Forwarded-For"));
        Assert.Equal("http", echo.Header("X-Forwarded-Proto"));
        Assert.Equal("platform.example:8443", echo.Header("X-Forwarded-Host"));
        Assert.Equal(Upstream.Address.Authority, echo.Header("Host"));
        Assert.Null(echo.Header("X-Forwarded-Prefix"));
    }

    [Fact]
    public async Task Forward_DropsHopByHopRequestHeaders_AndThoseNamedInConnection()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/hops");
        request.Headers.Connection.Add("X-Hop-Only");
        request.Headers.Add("X-Hop-Only", "secret");
        request.Headers.TryAddWithoutValidation("Keep-Alive", "timeout=5");
        request.Headers.TryAddWithoutValidation("Proxy-Authorization", "Basic cHJveHk6cHJveHk=");
        request.Headers.TryAddWithoutValidation("TE", "trailers");
        request.Headers.Add("X-End-To-End", "kept");

        var echo = await SendForEchoAsync(request);

        Assert.Equal("kept", echo.Header("X-End-To-End"));
        Assert.Null(echo.Header("X-Hop-Only"));
        Assert.Null(echo.Header("Keep-Alive"));
        Assert.Null(echo.Header("Proxy-Authorization"));
        Assert.Null(echo.Header("TE"));
        Assert.DoesNotContain("X-Hop-Only", echo.Header("Connection") ?? "", StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Forward_PassesTraceContext_WithoutDuplicatingIt()
    {
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/traced");
        request.Headers.Add("traceparent", traceParent);

        var echo = await SendForEchoAsync(request);

        var forwarded = Assert.Single(echo.Headers.Single(h => h.Key.Equals("traceparent", StringComparison.OrdinalIgnoreCase)).Value);
        Assert.Contains("0af7651916cd43dd8448eb211c80319c", forwarded);
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task Forward_SendsNoBody_WhenTheRequestHasNone(string method)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), "/api/things/1");

        var echo = await SendForEchoAsync(request);

        Assert.Equal(method, echo.Method);
        Assert.Equal(0, echo.BodyLength);
        Assert.Null(echo.Header("Content-Length"));
        Assert.Null(echo.Header("Transfer-Encoding"));
    }

    [Theory]
    [InlineData(200)]
    [InlineData(201)]
    [InlineData(204)]
    [InlineData(304)]
    [InlineData(404)]
    [InlineData(418)]
    [InlineData(500)]
    [InlineData(503)]
    public async Task Forward_RelaysStatusAndHeaders_WithoutHopByHopOnes(int code)
    {
        using var response = await Client.GetAsync($"/api/status/{code}");

        Assert.Equal(code, (int)response.StatusCode);
        Assert.Equal("yes", Assert.Single(response.Headers.GetValues("X-Upstream")));
        Assert.Equal(["a=1; path=/", "b=2; path=/"], response.Headers.GetValues("Set-Cookie"));
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.False(response.Headers.Contains("X-Resp-Hop"));
        Assert.False(response.Headers.Contains("Keep-Alive"));
        var body = await response.Content.ReadAsStringAsync();
        if (code is 204 or 304)
        {
            Assert.Equal("", body);
            return;
        }

        Assert.Equal($"status {code}", body);
        Assert.Equal("de", Assert.Single(response.Content.Headers.ContentLanguage));
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Forward_AnswersHead_WithTheUpstreamsHeadersAndNoBody()
    {
        using var request = new HttpRequestMessage(HttpMethod.Head, "/api/status/200");

        using var response = await Client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("yes", Assert.Single(response.Headers.GetValues("X-Upstream")));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Forward_StreamsA50MegabyteResponse_BeforeTheUpstreamHasFinishedWritingIt()
    {
        const long size = 50L * 1024 * 1024;
        var key = NewKey();
        using var response = await Client.GetAsync($"/api/stream/{key}/{size}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(size, response.Content.Headers.ContentLength);
        await using var body = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64 * 1024];

        // The upstream stops after its first MiB until we open the gate: a buffering proxy would never let it through.
        var position = 0L;
        while (position < TestUpstream.GatePosition)
        {
            var read = await body.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
            Assert.NotEqual(0, read);
            AssertPattern(buffer.AsSpan(0, read), position);
            position += read;
        }

        Assert.False(Upstream.Signal($"{key}:finished").Task.IsCompleted);
        Upstream.Signal($"{key}:open").TrySetResult("");
        int rest;
        while ((rest = await body.ReadAsync(buffer)) > 0)
        {
            AssertPattern(buffer.AsSpan(0, rest), position);
            position += rest;
        }

        Assert.Equal(size, position);
    }

    [Fact]
    public async Task Forward_FlushesServerSentEvents_AsTheUpstreamWritesThem()
    {
        var key = NewKey();
        using var response = await Client.GetAsync($"/api/events/{key}", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());

        Assert.Equal("data: one", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("", await reader.ReadLineAsync());
        Upstream.Signal($"{key}:next").TrySetResult("");
        Assert.Equal("data: two", await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Forward_StreamsA40MegabyteUpload_PastKestrelsDefaultBodyLimit(bool announceLength)
    {
        const long size = 40L * 1024 * 1024;
        var content = new PatternContent(size, announceLength);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/datasets/upload") { Content = content };

        var echo = await SendForEchoAsync(request);

        Assert.Equal(size, echo.BodyLength);
        Assert.Equal(content.Sha256, echo.BodySha256);
        Assert.Equal(announceLength ? size.ToString() : null, echo.Header("Content-Length"));
    }

    [Fact]
    public async Task Forward_StreamsTheRequestBody_BeforeTheClientHasFinishedSendingIt()
    {
        var key = NewKey();
        // The client sends 1000 bytes, then waits until the upstream has read some: a buffering proxy would deadlock.
        var content = new PatternContent(256 * 1024, announceLength: false, gatePosition: 1000,
            gate: () => Upstream.WaitAsync($"{key}:first-bytes"));

        using var response = await Client.PostAsync($"/api/upload/{key}", content);

        response.EnsureSuccessStatusCode();
        var echo = await response.Content.ReadFromJsonAsync<Echo>();
        Assert.Equal(256 * 1024, echo!.BodyLength);
        Assert.Equal(content.Sha256, echo.BodySha256);
    }

    [Fact]
    public async Task Forward_CancelsTheUpstreamRequest_WhenTheClientAborts()
    {
        var key = NewKey();
        using var abort = new CancellationTokenSource();
        var pending = Client.GetAsync($"/api/wait/{key}", abort.Token);
        await Upstream.WaitAsync($"{key}:started");

        await abort.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        await Upstream.WaitAsync($"{key}:aborted");
    }

    [Theory]
    [InlineData("/alive")]
    [InlineData("/health")]
    public async Task Web_AnswersItsOwnHealthEndpoints_WithoutProxying(string path)
    {
        using var response = await Client.GetAsync(path);

        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"status\":\"Healthy\"", body);
        Assert.DoesNotContain("rawTarget", body);
    }

    [Fact]
    public async Task Forward_StripsTheRoutePrefix_AndSendsItAsXForwardedPrefix()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/workload/{FrontDoorFixture.KnownWorkload}/lab/tree?path=a%20b");

        var echo = await SendForEchoAsync(request);

        Assert.Equal("/base/lab/tree?path=a%20b", echo.RawTarget);
        Assert.Equal($"/workload/{FrontDoorFixture.KnownWorkload}", echo.Header("X-Forwarded-Prefix"));
    }

    [Fact]
    public async Task Forward_AnswersNotFoundProblem_WhenTheRouteResolvesNoDestination()
    {
        using var response = await Client.GetAsync("/workload/8/lab");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
        Assert.Equal(404, problem!.Status);
        Assert.Contains("workload", problem.Detail);
    }

    private async Task<Echo> SendForEchoAsync(HttpRequestMessage request)
    {
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Echo>())!;
    }

    /// <summary>An address the client sends exactly as written: Uri would otherwise unescape and normalise it first.</summary>
    private Uri VerbatimUri(string pathAndQuery) =>
        new($"{Client.BaseAddress!.GetLeftPart(UriPartial.Authority)}{pathAndQuery}", in Verbatim);

    private static void AssertPattern(ReadOnlySpan<byte> data, long offset)
    {
        for (var i = 0; i < data.Length; i++)
        {
            if (data[i] != TestUpstream.PatternAt(offset + i))
            {
                Assert.Fail($"byte {offset + i} is {data[i]}, expected {TestUpstream.PatternAt(offset + i)}");
            }
        }
    }

    private static string NewKey() => Guid.NewGuid().ToString("N");
}
