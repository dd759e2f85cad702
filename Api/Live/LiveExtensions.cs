namespace Platform.Api.Live;

public static class LiveExtensions
{
    /// <summary>The hub, its relay from Postgres NOTIFY, and what they share.</summary>
    public static IServiceCollection AddLiveUpdates(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSignalR();
        var options = new LiveRelayOptions();
        configuration.GetSection("Platform:Live").Bind(options);
        services.AddSingleton(options);
        services.AddSingleton<LiveSubscriptions>();
        services.AddSingleton<JobLive>();
        services.AddScoped<DeploymentUpdates>();
        services.AddSingleton<Authentication.AccessKeyCache>();
        services.AddSingleton<LiveRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<LiveRelay>());
        // Live metrics: told of every ingested batch (Core.Metrics.IMetricBatchObserver), fan-out per frame, NOTIFY metrics.
        services.AddSingleton<MetricsLive>();
        services.AddSingleton<Platform.Core.Metrics.IMetricBatchObserver>(sp => sp.GetRequiredService<MetricsLive>());
        services.AddHostedService(sp => sp.GetRequiredService<MetricsLive>());
        services.AddSingleton<RunListLive>();
        services.AddHostedService(sp => sp.GetRequiredService<RunListLive>());
        return services;
    }

    /// <summary>
    /// Browsers cannot set headers on a WebSocket or EventSource, so SignalR clients send an access key as
    /// <c>?access_token=</c>; for hub requests only, it is moved to the Authorization header the key handler reads.
    /// (Browsers on the pages need none of this: their session cookie travels through the front door.)
    /// </summary>
    public static IApplicationBuilder UseHubAccessTokens(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Request.Path.StartsWithSegments("/hubs")
            && string.IsNullOrEmpty(context.Request.Headers.Authorization)
            && context.Request.Query["access_token"] is [{ Length: > 0 } token])
        {
            context.Request.Headers.Authorization = $"Bearer {token}";
        }

        return next(context);
    });

    public static WebApplication MapLiveHubs(this WebApplication app)
    {
        app.MapHub<LiveHub>(LiveHub.Path);
        return app;
    }
}
