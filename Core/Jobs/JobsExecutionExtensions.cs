using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;

namespace Platform.Core;

public static class JobsExecutionExtensions
{
    /// <summary>
    /// What running jobs needs in every process: job keys (Api authenticates them), progress reports, and the docker
    /// batch backend beside the process one (it connects to its engine only when a job uses it).
    /// </summary>
    public static IServiceCollection AddJobExecution(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<JobKeys>();
        services.AddScoped<JobProgress>();
        services.AddSingleton(DockerBatchBackend.OptionsFrom(configuration));
        services.AddSingleton<DockerBatchBackend>();
        services.AddSingleton<IBatchBackend>(sp => sp.GetRequiredService<DockerBatchBackend>());
        return services;
    }
}
