using Platform.Core.Deployments.Backends;
using Platform.Core.Deployments.Backends.Docker;

namespace Platform.Workers.Deployments;

public static class DeploymentsExtensions
{
    /// <summary>
    /// Every backend (process, docker), the reconciler that drives them and the choice of the one new deployments run
    /// on (<c>Compute:Backend</c>; a name no backend has stops Workers as it starts).
    /// The docker backend only connects to its engine when a deployment uses it.
    /// </summary>
    public static IServiceCollection AddDeploymentReconciler(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(ProcessBackend.OptionsFrom(configuration));
        services.AddSingleton<ProcessBackend>();
        services.AddSingleton<IComputeBackend>(sp => sp.GetRequiredService<ProcessBackend>());
        services.AddSingleton(DockerBackendOptions.From(configuration));
        services.AddSingleton<DockerBackend>();
        services.AddSingleton<IComputeBackend>(sp => sp.GetRequiredService<DockerBackend>());
        var chosen = configuration["Compute:Backend"] is { Length: > 0 } name ? name : ProcessBackend.BackendName;
        services.AddSingleton(sp => new ComputeBackends(sp.GetServices<IComputeBackend>(), chosen));
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
