using Platform.Core.Jobs.Backends;

namespace Platform.Workers.Jobs;

public static class LogShipperExtensions
{
    /// <summary>
    /// The shipper of job logs to the object store (<c>Platform:Jobs:LogShipper</c>, the cap <c>Platform:Jobs:MaxLogBytes</c>,
    /// the same one the process backend bounds its on-disk logs with). Several Workers may run it: replicas are claimed
    /// one at a time with a transaction-scoped advisory lock.
    /// </summary>
    public static IServiceCollection AddJobLogShipper(this IServiceCollection services, IConfiguration configuration)
    {
        var options = new LogShipperOptions();
        configuration.GetSection("Platform:Jobs:LogShipper").Bind(options);
        options.MaxLogBytes = ProcessBatchBackend.MaxLogBytesFrom(configuration);
        services.AddSingleton(options);
        services.AddSingleton<LogShipper>();
        services.AddHostedService(sp => sp.GetRequiredService<LogShipper>());
        return services;
    }
}
