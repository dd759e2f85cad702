using Platform.Core.Usage;

namespace Platform.Workers.Jobs;

public static class UsageExtensions
{
    /// <summary>
    /// The usage sampler (every 10 s: CPU, memory, GPU, network and disk per job replica and deployment) and the
    /// accountant (every minute and when a workload changes: allocated resource-seconds per workload-hour).
    /// <c>Platform:Usage</c> sets the accounting interval and how many days samples are kept.
    /// </summary>
    public static IServiceCollection AddUsageAccounting(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<UsageOptions>().Bind(configuration.GetSection(UsageOptions.Section));
        services.AddScoped<UsageAccounting>();
        services.AddSingleton<UsageSampler>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageSampler>());
        services.AddSingleton<UsageAccountant>();
        services.AddHostedService(sp => sp.GetRequiredService<UsageAccountant>());
        return services;
    }
}
