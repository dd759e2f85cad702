using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;

namespace Platform.Core.Jobs;

/// <summary>What a job submission must satisfy, field by field, with the messages shown beside each field.</summary>
public sealed partial class JobService
{
    public const int NameMaxLength = 100;
    public const int MaxArguments = 100;
    public const int MaxArgumentLength = 4096;
    public const int MaxOptions = 100;
    public const int MaxOptionValueLength = 4096;
    public const int MaxDatasets = 20;
    public const int MaxTrainers = 64;
    public const int MaxParameterServers = 16;
    public const int MaxPriority = 100;
    public const int MaxTimeLimitMinutes = 30 * 24 * 60;
    public const double DefaultCpus = 1;
    public const int DefaultMemoryMiB = 1024;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex OptionKey();

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,99}$")]
    private static partial Regex ModelName();

    private async Task<Result<(Job Job, List<JobReplica> Replicas)>> ValidateAsync(Guid userId, SubmitJobRequest request, CancellationToken ct)
    {
        var accountId = request.AccountId ?? (await accounts.GetCurrentAsync(userId, ct))?.Id;
        if (accountId is null)
        {
            return Error.Invalid("accountId", "Choose the account the job belongs to.");
        }

        var access = await accounts.RequireRoleAsync(userId, accountId.Value, AccountRole.Member, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        var errors = new FieldErrors();
        var backend = backends.Default;
        var name = request.Name?.Trim() ?? "";
        if (name.Length is 0 or > NameMaxLength || name.Any(char.IsControl))
        {
            errors.Add("name", $"Give a name of 1 to {NameMaxLength} characters.");
        }

        var type = JobType.Train;
        if (request.Type is { Length: > 0 } t && (!Enum.TryParse(t, ignoreCase: true, out type) || !Enum.IsDefined(type)))
        {
            errors.Add("type", "The type is 'train' or 'evaluate'.");
        }

        // What runs: a module's training command (with its files as the code), an image, or a command.
        var module = string.IsNullOrWhiteSpace(request.Module) ? null : catalog.Find(request.Module.Trim());
        var image = string.IsNullOrWhiteSpace(request.Image) ? null : request.Image.Trim();
        var command = request.Command?.ToList() ?? [];
        if (!string.IsNullOrWhiteSpace(request.Module) && module is null)
        {
            errors.Add("module", $"The catalog has no module named '{request.Module.Trim()}'.");
        }
        else if (module is not null && command.Count == 0 && module.Commands.Train is not { Count: > 0 })
        {
            errors.Add("module", $"'{module.Title}' has no training command; give a command to run with its files.");
        }

        if (module is not null && command.Count == 0)
        {
            command = [.. module.Commands.Train ?? []];
        }

        if (image is not null)
        {
            if (image.Length > DeploymentService.ImageMaxLength || !DeploymentService.ImageReference().IsMatch(image))
            {
                errors.Add("image", $"'{(image.Length > 60 ? image[..60] + "…" : image)}' is not an image reference (registry/name:tag or name@sha256:digest, lower-case name).");
            }
            else if (backend.Name == ProcessBackend.BackendName)
            {
                errors.Add("image", "Images need a container backend; this platform runs jobs as local processes (Compute:Backend=process). Give a command instead.");
            }
        }
        else if (module is null && command.Count == 0)
        {
            errors.Add("command", "Give the command to run (such as python3 train.py --epochs 3), an image, or a module.");
        }

        ValidateCommand(command, image is null && backend.Name == ProcessBackend.BackendName, errors);

        var datasets = request.Datasets?.Select(d => d?.Trim() ?? "").ToList() ?? [];
        await ValidateDatasetsAsync(userId, accountId.Value, datasets, errors, ct);
        var code = string.IsNullOrWhiteSpace(request.Code) ? null : request.Code.Trim();
        if (code is not null)
        {
            if (!DeploymentService.DatasetReference().IsMatch(code))
            {
                errors.Add("code", $"'{code}' is not a dataset reference: write name@version, such as my-code@2.");
            }
            else if (await mounts.ProblemAsync(userId, accountId.Value, code, ct) is { } problem)
            {
                errors.Add("code", problem);
            }
        }

        var outputModel = string.IsNullOrWhiteSpace(request.OutputModel) ? null : request.OutputModel.Trim();
        if (outputModel is not null && !ModelName().IsMatch(outputModel))
        {
            errors.Add("outputModel", "A model name is 1 to 100 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit.");
        }

        var options = ValidateOptions(request.Options, errors);
        var priority = request.Priority ?? 0;
        if (Math.Abs(priority) > MaxPriority)
        {
            errors.Add("priority", $"The priority is from -{MaxPriority} to {MaxPriority} (higher goes first within the account).");
        }

        if (request.TimeLimitMinutes is { } limit && limit is < 1 or > MaxTimeLimitMinutes)
        {
            errors.Add("timeLimitMinutes", $"The time limit is 1 to {MaxTimeLimitMinutes} minutes (30 days).");
        }

        var jobId = Guid.CreateVersion7();
        var replicas = new List<JobReplica>();
        replicas.AddRange(ValidateGroup(jobId, ReplicaRole.Trainer, request.Trainers, "trainers", 1, MaxTrainers, errors));
        replicas.AddRange(ValidateGroup(jobId, ReplicaRole.ParameterServer, request.ParameterServers, "parameterServers", 0, MaxParameterServers, errors));
        if (!errors.Any)
        {
            await ValidateCapacityAsync(backend, replicas, errors, ct);
        }

        if (!errors.Any)
        {
            await ValidateQuotasAsync(userId, accountId.Value, replicas, errors, ct);
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var now = clock.GetUtcNow();
        var job = new Job
        {
            Id = jobId,
            AccountId = accountId.Value,
            OwnerUserId = userId,
            Name = name,
            Type = type,
            Module = module?.Name,
            Image = image,
            Command = command,
            Options = JsonSerializer.Serialize(options),
            Datasets = datasets,
            Code = code,
            OutputModel = outputModel,
            Priority = priority,
            TimeLimitMinutes = request.TimeLimitMinutes,
            Desired = JobDesired.Running,
            Observed = JobObserved.Queued,
            QueueReason = "waiting for the scheduler",
            Generation = 1,
            Backend = backend.Name,
            SubmittedAt = now,
            UpdatedAt = now,
        };
        return (job, replicas);
    }

    /// <summary>
    /// argv, bounded; on the process backend a bare program name must be on the nodes' PATH (a path is resolved in the
    /// working folder at start, where the code is).
    /// </summary>
    private static void ValidateCommand(List<string> command, bool onNode, FieldErrors errors)
    {
        if (command.Count > MaxArguments)
        {
            errors.Add("command", $"At most {MaxArguments} arguments.");
            return;
        }

        for (var i = 0; i < command.Count; i++)
        {
            if (command[i] is null || command[i].Length > MaxArgumentLength || command[i].Contains('\0'))
            {
                errors.Add("command", $"Argument {i + 1} is empty, longer than {MaxArgumentLength} characters or holds a NUL.");
                return;
            }
        }

        if (command.Count > 0 && string.IsNullOrWhiteSpace(command[0]))
        {
            errors.Add("command", "The command starts with an empty program name.");
        }
        else if (command.Count > 0 && onNode && !command[0].Contains('/') && ProcessBackend.OnPath(command[0]) is null)
        {
            errors.Add("command", $"'{command[0]}' is not a program on this platform's nodes (not found on PATH). Check the spelling, or run a script of your code by its path (./train.sh).");
        }
    }

    private async Task ValidateDatasetsAsync(Guid userId, Guid accountId, List<string> datasets, FieldErrors errors, CancellationToken ct)
    {
        if (datasets.Count > MaxDatasets)
        {
            errors.Add("datasets", $"At most {MaxDatasets} datasets.");
            return;
        }

        var mountedNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < datasets.Count; i++)
        {
            if (!DeploymentService.DatasetReference().IsMatch(datasets[i]))
            {
                errors.Add($"datasets[{i}]", $"'{datasets[i]}' is not a dataset reference: write name@version, such as images@3 or images@production.");
            }
            else if (!mountedNames.Add(datasets[i][..datasets[i].IndexOf('@')]))
            {
                errors.Add($"datasets[{i}]", $"'{datasets[i][..datasets[i].IndexOf('@')]}' is mounted already: each dataset appears once, at datasets/<name>.");
            }
            else if (await mounts.ProblemAsync(userId, accountId, datasets[i], ct) is { } problem)
            {
                errors.Add($"datasets[{i}]", problem);
            }
        }
    }

    private static Dictionary<string, string> ValidateOptions(IReadOnlyDictionary<string, string>? options, FieldErrors errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options is null)
        {
            return result;
        }

        if (options.Count > MaxOptions)
        {
            errors.Add("options", $"At most {MaxOptions} options.");
            return result;
        }

        foreach (var (key, value) in options)
        {
            if (key is null || !OptionKey().IsMatch(key))
            {
                errors.Add("options", $"'{key}' is not an option name: a letter or '_', then letters, digits, '_', '.' or '-' (at most 64).");
            }
            else if (value is null || value.Length > MaxOptionValueLength || value.Any(c => c == '\0'))
            {
                errors.Add("options", $"The value of '{key}' is missing, longer than {MaxOptionValueLength} characters or holds a NUL.");
            }
            else
            {
                result[key] = value;
            }
        }

        return result;
    }

    private static IEnumerable<JobReplica> ValidateGroup(Guid jobId, ReplicaRole role, ReplicaGroupRequest? group, string field, int min, int max, FieldErrors errors)
    {
        var count = group?.Count ?? min;
        var cpus = group?.Cpus ?? DefaultCpus;
        var gpus = group?.Gpus ?? 0;
        var memory = group?.MemoryMiB ?? DefaultMemoryMiB;
        var ok = true;
        if (count < min || count > max)
        {
            errors.Add($"{field}.count", $"From {min} to {max}.");
            ok = false;
        }

        if (count > 0)
        {
            if (double.IsNaN(cpus) || cpus < 0.1 || cpus > 256)
            {
                errors.Add($"{field}.cpus", "From 0.1 to 256 CPUs each.");
                ok = false;
            }

            if (gpus is < 0 or > 16)
            {
                errors.Add($"{field}.gpus", "From 0 to 16 GPUs each.");
                ok = false;
            }

            if (memory is < 64 or > 4 * 1024 * 1024)
            {
                errors.Add($"{field}.memoryMiB", "From 64 MiB to 4 TiB each.");
                ok = false;
            }
        }

        return ok
            ? Enumerable.Range(0, count).Select(i => new JobReplica
            {
                JobId = jobId, Role = role, Index = i, Cpus = cpus, Gpus = gpus, MemoryMiB = memory, Observed = ReplicaObserved.Pending,
            }).ToList()
            : [];
    }

    /// <summary>A replica larger than every node can never be placed: refused now rather than queued forever.</summary>
    private static async Task ValidateCapacityAsync(Backends.IBatchBackend backend, List<JobReplica> replicas, FieldErrors errors, CancellationToken ct)
    {
        var nodes = await backend.NodesAsync(ct);
        foreach (var group in replicas.GroupBy(r => r.Role))
        {
            var r = group.First();
            var field = r.Role == ReplicaRole.Trainer ? "trainers" : "parameterServers";
            if (!nodes.Any(n => n.Gpus >= r.Gpus))
            {
                errors.Add($"{field}.gpus", $"No node has {r.Gpus} GPU{(r.Gpus == 1 ? "" : "s")}: the most one has is {nodes.Max(n => n.Gpus)}.");
            }
            else if (!nodes.Any(n => n.Cpus >= r.Cpus))
            {
                errors.Add($"{field}.cpus", $"No node has {r.Cpus:0.##} CPUs: the most one has is {nodes.Max(n => n.Cpus):0.##}.");
            }
            else if (!nodes.Any(n => n.MemoryMiB >= r.MemoryMiB))
            {
                errors.Add($"{field}.memoryMiB", $"No node has {r.MemoryMiB} MiB of memory: the most one has is {nodes.Max(n => n.MemoryMiB)} MiB.");
            }
        }
    }
}
