namespace Platform.Workers.Jobs;

public static class JobsExtensions
{
    /// <summary>
    /// The reconciler that runs admitted jobs on their batch backend (<c>Platform:Jobs:Reconciler</c> for its timings,
    /// <c>Platform:Jobs:DefaultTimeLimitMinutes</c> for jobs that name no limit).
    /// </summary>
    public static IServiceCollection AddJobReconciler(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new JobReconcilerOptions();
        configuration.GetSection("Platform:Jobs:Reconciler").Bind(options);
        if (int.TryParse(configuration["Platform:Jobs:DefaultTimeLimitMinutes"], System.Globalization.CultureInfo.InvariantCulture, out var minutes) && minutes > 0)
        {
            options.DefaultTimeLimitMinutes = minutes;
        }

        if (string.IsNullOrEmpty(options.ApiUrl))
        {
            options.ApiUrl = configuration["services:web:http:0"] is { Length: > 0 } web ? web : configuration["Platform:PublicUrl"] ?? "";
        }

        services.AddSingleton(options);
        services.AddScoped<JobOutputs>();
        services.AddSingleton<JobReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<JobReconciler>());
        // Finished jobs' folders and containers, removed after Platform:Jobs:Retention:KeepDays.
        services.AddSingleton<JobRetention>();
        services.AddHostedService(sp => sp.GetRequiredService<JobRetention>());
        return services;
    }
}
