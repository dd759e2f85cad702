using System.Globalization;
using System.Text.RegularExpressions;
using Platform.Core.Accounts;
using Platform.Core.Catalog;
using Platform.Core.Common;

namespace Platform.Core.Deployments;

/// <summary>What a deployment request must satisfy, field by field, with the messages shown beside each field.</summary>
public sealed partial class DeploymentService
{
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,99}@([1-9][0-9]{0,8}|[a-z][a-z0-9_-]{0,49})$")]
    internal static partial Regex DatasetReference();

    public const int ImageMaxLength = 300;

    /// <summary>
    /// "Run your own image": a module with <c>images.custom</c> takes the image the user names (required, a well-formed
    /// reference), and only on a container backend; every other module runs its own image and takes none.
    /// </summary>
    private void ValidateImage(ModuleManifest module, string? image, FieldErrors errors)
    {
        image = image?.Trim();
        if (!module.Images.Custom)
        {
            if (!string.IsNullOrEmpty(image))
            {
                errors.Add("image", $"'{module.Title}' runs its own image; only \"Run your own image\" takes one.");
            }

            return;
        }

        if (string.IsNullOrEmpty(image))
        {
            errors.Add("image", "Name the image to run, such as registry.example.org/team/model:1.2.");
        }
        else if (image.Length > ImageMaxLength || !ImageReference().IsMatch(image))
        {
            errors.Add("image", $"'{(image.Length > 60 ? image[..60] + "…" : image)}' is not an image reference (registry/name:tag or name@sha256:digest, lower-case name).");
        }
        else if (specs.BackendName == "process")
        {
            errors.Add("image", "Running your own image needs a container backend; this platform runs deployments as local processes (Compute:Backend=process).");
        }
    }

    [GeneratedRegex(@"^([a-zA-Z0-9.-]+(:[0-9]{1,5})?/)?[a-z0-9]+([._-]+[a-z0-9]+)*(/[a-z0-9]+([._-]+[a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$")]
    internal static partial Regex ImageReference();

    private async Task<Result<Deployment>> ValidateAsync(Guid userId, CreateDeploymentRequest request, CancellationToken ct)
    {
        var accountId = request.AccountId ?? (await accounts.GetCurrentAsync(userId, ct))?.Id;
        if (accountId is null)
        {
            return Error.Invalid("accountId", "Choose the account the deployment belongs to.");
        }

        var access = await accounts.RequireRoleAsync(userId, accountId.Value, AccountRole.Member, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        var errors = new FieldErrors();
        var module = string.IsNullOrWhiteSpace(request.Module) ? null : catalog.Find(request.Module.Trim());
        if (module is null)
        {
            errors.Add("module", string.IsNullOrWhiteSpace(request.Module) ? "Choose a module." : $"The catalog has no module named '{request.Module.Trim()}'.");
        }

        var title = request.Title?.Trim() ?? "";
        if (title.Length is 0 or > TitleMaxLength)
        {
            errors.Add("title", $"Give a title of 1 to {TitleMaxLength} characters.");
        }

        var description = request.Description?.Trim() ?? "";
        if (description.Length > DescriptionMaxLength)
        {
            errors.Add("description", $"The description is longer than {DescriptionMaxLength} characters.");
        }

        var template = DeploymentTemplate.Default;
        if (request.Template is { } t && !Enum.TryParse(t, ignoreCase: true, out template) || !Enum.IsDefined(template))
        {
            errors.Add("template", "The template is 'default' or 'minimal'.");
        }

        var datasets = request.Datasets?.Select(d => d?.Trim() ?? "").ToList() ?? [];
        if (datasets.Count > MaxDatasets)
        {
            errors.Add("datasets", $"At most {MaxDatasets} datasets.");
        }

        var mountedNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < datasets.Count; i++)
        {
            if (!DatasetReference().IsMatch(datasets[i]))
            {
                errors.Add($"datasets[{i}]", $"'{datasets[i]}' is not a dataset reference: write name@version, such as images@3 or images@production.");
            }
            else if (!mountedNames.Add(datasets[i][..datasets[i].IndexOf('@')]))
            {
                errors.Add($"datasets[{i}]", $"'{datasets[i][..datasets[i].IndexOf('@')]}' is mounted already: each dataset appears once, at datasets/<name>.");
            }
            else if (datasets.Count <= MaxDatasets && await mounts.ProblemAsync(userId, accountId.Value, datasets[i], ct) is { } problem)
            {
                errors.Add($"datasets[{i}]", problem);
            }
        }

        var service = ModuleService.Jupyter;
        var resources = new ResourceRequest(0, 0, 0, 0);
        if (module is not null)
        {
            service = ValidateService(module, request.Service, errors);
            resources = ValidateResources(module, request, errors);
            if (request.ImageTag is { Length: > 0 } tag && !module.Images.Tags.Contains(tag, StringComparer.Ordinal))
            {
                errors.Add("imageTag", $"The module offers the image tags {string.Join(", ", module.Images.Tags)}.");
            }

            ValidateImage(module, request.Image, errors);
        }

        var password = request.Password ?? "";
        if ((service != ModuleService.Api || password.Length > 0) && password.Length is < PasswordMinLength or > PasswordMaxLength)
        {
            errors.Add("password", $"Choose a password of {PasswordMinLength} to {PasswordMaxLength} characters to open the editor with.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var now = clock.GetUtcNow();
        return new Deployment
        {
            Id = Guid.CreateVersion7(),
            AccountId = accountId.Value,
            OwnerUserId = userId,
            Module = module!.Name,
            Title = title,
            Description = description,
            Service = service,
            ImageTag = string.IsNullOrEmpty(request.ImageTag) ? null : request.ImageTag,
            Image = module.Images.Custom ? request.Image!.Trim() : null,
            Cpus = resources.Cpus,
            Gpus = resources.Gpus,
            MemoryMiB = resources.MemoryMiB,
            DiskGiB = resources.DiskGiB,
            Template = template,
            Datasets = datasets,
            Desired = DesiredState.Running,
            Observed = ObservedState.Queued,
            Generation = 1,
            ObservedGeneration = 0,
            Backend = specs.BackendName,
            CreatedAt = now,
            UpdatedAt = now,
        };
    }

    private static ModuleService ValidateService(ModuleManifest module, string? requested, FieldErrors errors)
    {
        var offered = string.Join(", ", module.Services.Select(Wire));
        if (string.IsNullOrWhiteSpace(requested))
        {
            if (module.Services.Count == 0)
            {
                errors.Add("service", $"The module '{module.Name}' offers no service.");
                return ModuleService.Jupyter;
            }

            return module.Services[0];
        }

        if (!Enum.TryParse<ModuleService>(requested.Trim(), ignoreCase: true, out var service) || !Enum.IsDefined(service) || !module.Services.Contains(service))
        {
            errors.Add("service", $"The module '{module.Name}' offers {offered}.");
        }

        return service;
    }

    private static ResourceRequest ValidateResources(ModuleManifest module, CreateDeploymentRequest request, FieldErrors errors)
    {
        var (defaults, max) = (module.Resources.Default, module.Resources.Max);
        var cpus = request.Cpus ?? defaults.Cpus;
        if (!double.IsFinite(cpus) || cpus <= 0 || cpus > max.Cpus)
        {
            errors.Add("cpus", $"Ask for more than 0 and at most {max.Cpus.ToString(CultureInfo.InvariantCulture)} CPUs.");
        }

        var gpus = request.Gpus ?? defaults.Gpus;
        if (!double.IsFinite(gpus) || gpus < 0 || gpus != Math.Floor(gpus) || gpus > max.Gpus)
        {
            errors.Add("gpus", $"Ask for a whole number of GPUs from 0 to {max.Gpus}.");
        }

        var memory = request.MemoryMiB ?? defaults.MemoryMiB;
        if (memory <= 0 || memory > max.MemoryMiB)
        {
            errors.Add("memoryMiB", $"Ask for more than 0 and at most {max.MemoryMiB} MiB of memory.");
        }

        var disk = request.DiskGiB ?? defaults.DiskGiB;
        if (disk <= 0 || disk > max.DiskGiB)
        {
            errors.Add("diskGiB", $"Ask for more than 0 and at most {max.DiskGiB} GiB of disk.");
        }

        return new ResourceRequest(cpus, double.IsFinite(gpus) && gpus is >= 0 and <= int.MaxValue ? (int)gpus : 0, memory, disk);
    }
}
