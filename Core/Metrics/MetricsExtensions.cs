using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Core.Metrics;

public static class MetricsExtensions
{
    /// <summary>Runs, the ingestion write path and the reads of the training boards, with their limits (<c>Platform:Metrics</c>).</summary>
    public static IServiceCollection AddMetrics(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<MetricsOptions>().Bind(configuration.GetSection(MetricsOptions.Section));
        services.AddScoped<RunService>();
        services.AddScoped<MetricIngestion>();
        services.AddScoped<MetricReads>();
        return services;
    }
}
