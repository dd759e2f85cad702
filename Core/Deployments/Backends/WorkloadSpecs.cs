using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Platform.Core.Catalog;
using Platform.Core.Common;

namespace Platform.Core.Deployments.Backends;

/// <summary>
/// Builds the <see cref="WorkloadSpec"/> of a deployment: its module's commands, its resources, the decrypted password
/// and the environment every workload gets (PLATFORM_API_URL, PLATFORM_API_KEY, PLATFORM_DEPLOYMENT_ID).
/// </summary>
public sealed class WorkloadSpecs(IModuleCatalog catalog, IDataProtectionProvider protection, IConfiguration configuration)
{
    public const string PasswordPurpose = "Platform.Deployments.Password";
    public const string ServiceTokenPurpose = "Platform.Deployments.ServiceToken";

    private IDataProtector Protector => protection.CreateProtector(PasswordPurpose);
    private IDataProtector ServiceTokenProtector => protection.CreateProtector(ServiceTokenPurpose);

    /// <summary>Which backend runs new deployments: <c>Compute:Backend</c>, "process" unless set.</summary>
    public string BackendName => configuration["Compute:Backend"] is { Length: > 0 } name ? name : "process";

    /// <summary>Where code in a workload reaches the platform: Web's address (the front door), else the public URL.</summary>
    public string ApiUrl => configuration["services:web:http:0"] is { Length: > 0 } web ? web : configuration["Platform:PublicUrl"] ?? "";

    public string Protect(string password) => Protector.Protect(password);

    /// <summary>A new service token and its protected form, for <see cref="Deployment.ServiceTokenProtected"/>.</summary>
    public (string Token, string Protected) NewServiceToken()
    {
        var token = Secrets.NewToken(40);
        return (token, ServiceTokenProtector.Protect(token));
    }

    /// <summary>The token the running workload accepts from Workers, or null when none was recorded.</summary>
    public string? ServiceTokenOf(Deployment deployment) =>
        deployment.ServiceTokenProtected is { Length: > 0 } p ? ServiceTokenProtector.Unprotect(p) : null;

    /// <summary>The spec of a stored deployment with the API key and service token the workload will carry.</summary>
    public WorkloadSpec Build(Deployment deployment, string apiKey, string serviceToken, IReadOnlyList<WorkloadMount>? mounts = null) =>
        Build(deployment, Protector.Unprotect(deployment.PasswordProtected), apiKey, serviceToken, mounts);

    public WorkloadSpec Build(Deployment d, string password, string apiKey, string serviceToken, IReadOnlyList<WorkloadMount>? mounts = null)
    {
        var module = catalog.Find(d.Module);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PLATFORM_API_URL"] = ApiUrl,
            ["PLATFORM_API_KEY"] = apiKey,
            ["PLATFORM_DEPLOYMENT_ID"] = d.Id.ToString(),
        };
        return new WorkloadSpec(d.Id, d.Module, d.Service, new ResourceRequest(d.Cpus, d.Gpus, d.MemoryMiB, d.DiskGiB), d.Template,
            d.Datasets, module?.Commands.Api, password, environment, serviceToken, mounts ?? [])
        {
            Image = d.Image ?? (module is null ? null : ImageOf(module.Images, d.Gpus, d.ImageTag)),
            OwnImage = d.Image is not null,
            OwnerUserId = d.OwnerUserId,
            AccountId = d.AccountId,
        };
    }

    /// <summary>The module's image for the hardware (the GPU one when GPUs are asked for and it has one), with the chosen tag.</summary>
    public static string? ImageOf(ModuleImages images, int gpus, string? tag)
    {
        var image = gpus > 0 && images.Gpu is { Length: > 0 } gpu ? gpu : images.Cpu;
        if (image is null || string.IsNullOrEmpty(tag))
        {
            return image;
        }

        // The tag follows the last ':' after the last '/' (a registry's port is not a tag); a digest is left alone.
        if (image.Contains('@', StringComparison.Ordinal))
        {
            return image;
        }

        var colon = image.LastIndexOf(':');
        var name = colon > image.LastIndexOf('/') ? image[..colon] : image;
        return $"{name}:{tag}";
    }
}
