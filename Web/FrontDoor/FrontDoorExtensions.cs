using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Platform.Web.FrontDoor;

/// <summary>
/// Registers and maps the front door: Web's reverse proxy for the Api (<c>/api</c>, <c>/hubs</c>, <c>/openapi</c>)
/// and, through <see cref="AddFrontDoorRoute"/>, for per-workload destinations.
/// </summary>
public static class FrontDoorExtensions
{
    /// <summary>The Api's plain-HTTP address, per Aspire's config contract (env <c>services__api__http__0</c>).</summary>
    public const string ApiHttpKey = "services:api:http:0";

    /// <summary>The Api's HTTPS address, used when no plain-HTTP one is given.</summary>
    public const string ApiHttpsKey = "services:api:https:0";

    /// <summary>DI key of the shared upstream <see cref="HttpMessageInvoker"/>.</summary>
    public const string InvokerKey = "Platform.Web.FrontDoor";

    public static IServiceCollection AddFrontDoor(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<FrontDoorOptions>()
            .Bind(configuration.GetSection(FrontDoorOptions.SectionName))
            .Configure(o => o.ApiAddress = ParseApiAddress(GivenApiAddress(configuration)))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FrontDoorOptions>>(new FrontDoorOptionsValidator(configuration)));

        // A plain singleton invoker rather than an IHttpClientFactory client: factory-wide defaults (logging
        // handlers, resilience with retries and buffering) must never apply to proxied, streamed, non-idempotent
        // requests, and a client per route would split the connection pool.
        services.TryAddKeyedSingleton(InvokerKey, (sp, _) => CreateInvoker(sp.GetRequiredService<IOptions<FrontDoorOptions>>().Value));
        services.TryAddSingleton<HttpForwarder>();
        services.TryAddSingleton<WebSocketRelay>();

        services.AddFrontDoorRoute(sp => ApiRoute("/api", sp));
        services.AddFrontDoorRoute(sp => ApiRoute("/openapi", sp));
        // SignalR long polling holds each poll open (90 s by default) and bounds it itself: no front-door limit.
        services.AddFrontDoorRoute(sp => ApiRoute("/hubs", sp) with { Timeout = Timeout.InfiniteTimeSpan });
        return services;
    }

    /// <summary>Adds a route to the front door's table; <see cref="MapFrontDoor"/> maps every route added.</summary>
    public static IServiceCollection AddFrontDoorRoute(this IServiceCollection services, Func<IServiceProvider, FrontDoorRoute> route)
    {
        services.AddSingleton(route);
        return services;
    }

    /// <summary>
    /// Maps <c>{prefix}/{**rest}</c> for every route as an ordinary endpoint, so the routes show in the endpoint
    /// list, sit beside Razor Pages without colliding, and take conventions through the returned group
    /// (e.g. CORS). Needs <c>app.UseWebSockets()</c> earlier in the pipeline for WebSocket relaying.
    /// </summary>
    public static RouteGroupBuilder MapFrontDoor(this IEndpointRouteBuilder endpoints)
    {
        var services = endpoints.ServiceProvider;
        var group = endpoints.MapGroup(string.Empty);
        foreach (var route in services.GetServices<FrontDoorRoute>())
        {
            if (!route.PathPrefix.StartsWith('/') || route.PathPrefix.EndsWith('/') || route.PathPrefix.Contains('*'))
            {
                throw new InvalidOperationException(
                    $"Front door route '{route.Name}': prefix '{route.PathPrefix}' must start with '/', not end with '/', and have no catch-all.");
            }

            var endpoint = ActivatorUtilities.CreateInstance<FrontDoorEndpoint>(services, route);
            group.Map($"{route.PathPrefix}/{{**rest}}", (RequestDelegate)endpoint.HandleAsync)
                .WithDisplayName($"Front door {route.PathPrefix} -> {route.Name}")
                .WithMetadata([.. route.Metadata]);
        }

        return group;
    }

    private static FrontDoorRoute ApiRoute(string prefix, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<FrontDoorOptions>>();
        // Api serves the same paths, so nothing is stripped. It authenticates every request itself from the
        // forwarded cookie or bearer key, so Web's own authorization (a fallback policy, say) must not stop them.
        return new FrontDoorRoute("api", prefix, _ => ValueTask.FromResult(options.Value.ApiAddress))
        {
            Metadata = [new AllowAnonymousAttribute()],
        };
    }

    /// <summary>The plain-HTTP address when one is given: Web and Api share a host or a private network.</summary>
    private static string? GivenApiAddress(IConfiguration configuration) =>
        string.IsNullOrWhiteSpace(configuration[ApiHttpKey]) ? configuration[ApiHttpsKey] : configuration[ApiHttpKey];

    private static Uri? ParseApiAddress(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? uri
            : null;

    private static HttpMessageInvoker CreateInvoker(FrontDoorOptions options) =>
        new(new SocketsHttpHandler
        {
            UseProxy = false,
            // Redirects are for the browser to follow, with its own cookies and its own view of the URL.
            AllowAutoRedirect = false,
            // Cookies belong to the user and travel in the forwarded Cookie header, never in a shared jar.
            UseCookies = false,
            // Bodies pass through as the upstream encoded them, with their Content-Encoding.
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.ConnectTimeout,
            // Workload upstreams come and go on reused addresses; recycling connections bounds a stale one's life.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        }, disposeHandler: true);

    private sealed class FrontDoorOptionsValidator(IConfiguration configuration) : IValidateOptions<FrontDoorOptions>
    {
        public ValidateOptionsResult Validate(string? name, FrontDoorOptions options)
        {
            var failures = new List<string>();
            if (options.ApiAddress is null)
            {
                var given = GivenApiAddress(configuration);
                failures.Add(string.IsNullOrEmpty(given)
                    ? "Front door: the Api address is missing. Set services__api__http__0 (or services__api__https__0) to the Api's base URL, e.g. http://127.0.0.1:5100."
                    : $"Front door: services__api__http__0 / services__api__https__0 must be an absolute http(s) URL; got '{given}'.");
            }

            if (options.RequestTimeout <= TimeSpan.Zero && options.RequestTimeout != Timeout.InfiniteTimeSpan)
            {
                failures.Add("Front door: FrontDoor:RequestTimeout must be positive (or -00:00:00.001 for none).");
            }

            if (options.ConnectTimeout <= TimeSpan.Zero)
            {
                failures.Add("Front door: FrontDoor:ConnectTimeout must be positive.");
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
