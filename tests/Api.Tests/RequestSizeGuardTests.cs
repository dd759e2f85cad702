using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Infrastructure;

namespace Platform.Api.Tests;

public sealed class RequestSizeGuardTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddProblemDetails();
        _app = builder.Build();
        _app.UseMiddleware<RequestSizeGuard>();
        _app.MapPost("/default", async (HttpRequest r) => (await new StreamReader(r.Body).ReadToEndAsync()).Length);
        _app.MapPost("/small", async (HttpRequest r) => (await new StreamReader(r.Body).ReadToEndAsync()).Length)
            .WithMetadata(new RequestSizeLimitAttribute(10));
        _app.MapPost("/upload", async (HttpRequest r) => (await new StreamReader(r.Body).ReadToEndAsync()).Length)
            .WithMetadata(new DisableRequestSizeLimitAttribute());
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private Task<HttpResponseMessage> PostAsync(string path, int bytes) =>
        _client.PostAsync(path, new ByteArrayContent(new byte[bytes]));

    [Fact]
    public async Task Default_Allows1MiB_AndRefusesMore()
    {
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/default", (int)RequestSizeGuard.DefaultLimit)).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await PostAsync("/default", (int)RequestSizeGuard.DefaultLimit + 1)).StatusCode);
    }

    [Fact]
    public async Task DeclaredLimit_IsTheOneApplied()
    {
        Assert.Equal(HttpStatusCode.OK, (await PostAsync("/small", 10)).StatusCode);
        var refused = await PostAsync("/small", 11);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, refused.StatusCode);
        Assert.Contains("at most 10 bytes", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task DisabledLimit_LetsLargeUploadsThrough()
    {
        var response = await PostAsync("/upload", 3 * 1024 * 1024);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((3 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), await response.Content.ReadAsStringAsync());
    }
}
