using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Core.Jobs;

public static class JobQuotaExtensions
{
    /// <summary>Job quotas (<c>Platform:Jobs:Quotas</c> for accounts without their own) and the service that sets and reads them.</summary>
    public static IServiceCollection AddJobQuotas(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<JobQuotaOptions>().Bind(configuration.GetSection(JobQuotaOptions.Section));
        services.AddScoped<JobQuotaService>();
        return services;
    }
}
