namespace Platform.Workers.Jobs;

public static class SchedulerExtensions
{
    /// <summary>The job scheduler: one leader among the Workers replicas admits and places queued jobs.</summary>
    public static IServiceCollection AddJobScheduler(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new JobSchedulerOptions();
        configuration.GetSection(JobSchedulerOptions.Section).Bind(options);
        services.AddSingleton(options);
        services.AddSingleton<JobScheduler>();
        services.AddHostedService(sp => sp.GetRequiredService<JobScheduler>());
        return services;
    }
}
