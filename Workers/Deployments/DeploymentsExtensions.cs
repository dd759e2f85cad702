using Platform.Core.Deployments.Backends;

namespace Platform.Workers.Deployments;

public static class DeploymentsExtensions
{
    /// <summary>The process backend and the reconciler that drives it (Compute:Backend names no other backend yet).</summary>
    public static IServiceCollection AddDeploymentReconciler(this IServiceCollection services, IConfiguration configuration)
    {
        var backend = configuration["Compute:Backend"];
        if (!string.IsNullOrEmpty(backend) && backend != ProcessBackend.BackendName)
        {
            throw new InvalidOperationException($"Compute:Backend '{backend}' is not available yet; use '{ProcessBackend.BackendName}'.");
        }

        services.AddSingleton(ProcessBackend.OptionsFrom(configuration));
        services.AddSingleton<ProcessBackend>();
        services.AddSingleton<IComputeBackend>(sp => sp.GetRequiredService<ProcessBackend>());
        var options = new DeploymentReconcilerOptions();
        configuration.GetSection("Platform:Deployments:Reconciler").Bind(options);
        if (string.IsNullOrEmpty(options.PublicUrl))
        {
            options.PublicUrl = configuration["Platform:PublicUrl"] ?? "";
        }

        services.AddSingleton(options);
        services.AddSingleton<DeploymentReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<DeploymentReconciler>());

        // Stops IDEs idle for their account's time (Platform:IdleCulling and each account's setting).
        services.AddSingleton<IdeActivityProbe>();
        services.AddSingleton<GpuUtilization>();
        services.AddSingleton<IdleCuller>();
        services.AddHostedService(sp => sp.GetRequiredService<IdleCuller>());
        return services;
    }
}
