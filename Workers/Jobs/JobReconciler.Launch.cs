using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Platform.Core.Catalog;
using Platform.Core.Common;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Jobs;
using Platform.Core.Jobs.Backends;

namespace Platform.Workers.Jobs;

public sealed partial class JobReconciler
{
    /// <summary>Progress collected in order, written as events once the step has it.</summary>
    private sealed class ListProgress : IProgress<string>
    {
        public List<string> Messages { get; } = [];

        public void Report(string value) => Messages.Add(value);
    }

    /// <summary>
    /// Starting → Running: ports for every replica first (kept once written, so a resumed launch tells the replicas it
    /// still starts the same peers' addresses), a key, the datasets and the code, then each replica — parameter servers
    /// first — started or adopted by name. Any replica that cannot start fails the job and stops the rest.
    /// </summary>
    private async Task LaunchAsync(Step step, IBatchBackend backend, CancellationToken ct)
    {
        var job = step.Job;
        var replicas = step.Replicas;
        if (replicas.Count == 0 || replicas.Any(r => r.Node is null))
        {
            await step.FailAsync("the job was admitted without a node for every replica");
            return;
        }

        var resumed = job.TokenHash is not null || replicas.Any(r => r.BackendState is not null);
        var messages = new List<string> { resumed ? "Starting: launching the replicas (resumed after a worker stopped)" : $"Starting: launching {Describe(replicas)}" };
        if (replicas.Any(r => r.Port is null))
        {
            var taken = replicas.Where(r => r.Port is not null).Select(r => r.Port!.Value).ToHashSet();
            var free = new Queue<int>(FreePorts(replicas.Count(r => r.Port is null), taken));
            foreach (var replica in replicas.Where(r => r.Port is null))
            {
                await step.ReplicaAsync(replica, r => r.Port = free.Dequeue());
            }
        }

        messages.Add("Endpoints: " + string.Join(", ", replicas.Select(r => $"{r.Label} {options.AddressOf(r.Node)}:{r.Port}")));

        // A new key for the replicas this pass starts; adopted ones keep theirs, whose hash stays (JobKeys).
        var key = JobKeys.New(job.Id);
        byte[] hashes = job.TokenHash is null ? Secrets.Hash(key) : [.. job.TokenHash, .. Secrets.Hash(key)];
        await step.UpdateAsync(s => s.SetProperty(x => x.TokenHash, hashes));
        job.TokenHash = hashes;

        var progress = new ListProgress();
        IReadOnlyList<WorkloadMount> mounts;
        string? codeFolder;
        try
        {
            // Datasets and code first, as the owner: one that cannot be read fails the start before anything runs.
            var datasetMounts = step.Services.GetRequiredService<DatasetMounts>();
            mounts = await datasetMounts.PrepareAsync(job.OwnerUserId, job.AccountId, job.Datasets, progress, ct);
            codeFolder = await CodeFolderAsync(step, datasetMounts, progress, ct);
            WriteOptions(backend, job);
        }
        catch (WorkloadException ex)
        {
            await step.EventsAsync([.. messages, .. progress.Messages]);
            await step.FailAsync(ex.Message);
            return;
        }

        messages.AddRange(progress.Messages);
        await step.EventsAsync(messages);
        messages.Clear();

        var jobOptions = JobService.OptionsOf(job);
        var outputDir = backend is DockerBatchBackend docker ? docker.ContainerOutputFolder : backend.OutputFolderOf(job.Id) ?? "output";
        foreach (var replica in replicas.OrderBy(r => r.Role == ReplicaRole.Trainer).ThenBy(r => r.Index))
        {
            var environment = ReplicaEnvironment.For(job, replica, replicas, options.AddressOf, options.ApiUrl, key, outputDir, jobOptions);
            var spec = new BatchSpec(job.Id, replica.Label, job.Image, job.Command, environment, replica.Cpus, replica.Gpus, replica.MemoryMiB,
                replica.Port!.Value, mounts, codeFolder, job.OwnerUserId, job.AccountId);
            BatchStart started;
            try
            {
                started = await backend.StartAsync(spec, replica.BackendState, ct);
            }
            catch (WorkloadException ex)
            {
                await step.EventsAsync(messages);
                await StopAllAsync(step, backend, $"stopped: {replica.Label} could not start", CancellationToken.None);
                await step.FailAsync($"{replica.Label} could not start: {ex.Message}");
                return;
            }

            var now = step.Now;
            await step.ReplicaAsync(replica, r =>
            {
                r.BackendState = started.State;
                r.Observed = ReplicaObserved.Running;
                r.StartedAt ??= now;
            });
            messages.Add(started.Launched
                ? $"Launched {replica.Label} on {replica.Node} at {options.AddressOf(replica.Node)}:{replica.Port}"
                : $"Adopted {replica.Label}: an earlier start had launched it already");
            await step.RenewAsync();
        }

        await step.EventsAsync(messages);
        var at = step.Now;
        var startedAt = job.StartedAt ?? at;
        if (await step.MoveAsync(JobObserved.Running, s => s
                .SetProperty(x => x.StartedAt, startedAt)
                .SetProperty(x => x.NextCheckAt, at + options.PollInterval), $"Running: {Describe(replicas)}"))
        {
            job.StartedAt = startedAt;
            await step.NotifyOwnerAsync("job.started", $"Job {job.Name} started", $"{Describe(replicas)} on {string.Join(", ", replicas.Select(r => r.Node).Distinct())}.");
        }
    }

    /// <summary>The job's code: a dataset version (<see cref="Job.Code"/>) materialised as the owner, else its module's folder.</summary>
    private static async Task<string?> CodeFolderAsync(Step step, DatasetMounts datasetMounts, ListProgress progress, CancellationToken ct)
    {
        var job = step.Job;
        if (job.Code is { } code)
        {
            var found = await datasetMounts.PrepareAsync(job.OwnerUserId, job.AccountId, [code], new ListProgress(), ct);
            progress.Report($"Code: the files of {code} are copied into the working folder");
            return found[0].HostPath;
        }

        if (job.Module is { } module)
        {
            var folder = step.Services.GetRequiredService<IModuleCatalog>().Find(module)?.Folder
                ?? throw new WorkloadException($"The catalog has no module named '{module}' any more.");
            progress.Report($"Code: the files of module {module} are copied into the working folder");
            return folder;
        }

        return null;
    }

    /// <summary><c>options.json</c> in the working folder (where the backend's working folder is reachable from here).</summary>
    private static void WriteOptions(IBatchBackend backend, Job job)
    {
        if (backend.OutputFolderOf(job.Id) is not { } output)
        {
            return;
        }

        try
        {
            Directory.CreateDirectory(output);
            var file = Path.Combine(Path.GetDirectoryName(output)!, "options.json");
            File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(JobService.OptionsOf(job)));
            File.Move(file + ".tmp", file, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new WorkloadException($"The working folder could not be prepared: {ex.Message}");
        }
    }

    /// <summary>
    /// <paramref name="count"/> distinct ports free on this machine now, none of <paramref name="taken"/>: each listener
    /// stays open until all are chosen, so the system cannot hand out the same port twice.
    /// </summary>
    private static List<int> FreePorts(int count, IReadOnlySet<int> taken)
    {
        var listeners = new List<TcpListener>();
        try
        {
            var ports = new List<int>();
            while (ports.Count < count)
            {
                var listener = new TcpListener(IPAddress.Any, 0);
                listener.Start();
                listeners.Add(listener);
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (!taken.Contains(port))
                {
                    ports.Add(port);
                }
            }

            return ports;
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    private static string Describe(IReadOnlyList<JobReplica> replicas)
    {
        var trainers = replicas.Count(r => r.Role == ReplicaRole.Trainer);
        var servers = replicas.Count(r => r.Role == ReplicaRole.ParameterServer);
        var text = $"{trainers} trainer{(trainers == 1 ? "" : "s")}";
        return servers == 0 ? text : $"{text} and {servers} parameter server{(servers == 1 ? "" : "s")}";
    }
}
