using Microsoft.EntityFrameworkCore;
using Platform.Core.Datasets;
using Platform.Core.Jobs;
using Platform.Core.Models;
using Platform.Core.Persistence;

namespace Platform.Workers.Jobs;

/// <summary>Why a successful job's outputs could not become a model version (quota, access, storage).</summary>
public sealed class OutputException(string message) : Exception(message);

/// <summary>
/// A successful job's <c>output/</c> folder as the next version of its <see cref="Job.OutputModel"/>, through the same
/// path a user's upload takes (<see cref="ModelService"/>: quota, hashing, objects shared between versions), acting as
/// the job's owner. The model is created in the job's account when it has none of that name; the draft is made to hold
/// exactly the folder's files (files a previous version had and the folder lacks are removed), then published.
/// Idempotent across a worker dying mid-way: uploads replace files of the same path in the draft, and the model's
/// <see cref="Artifact.SourceJobId"/> is set to the job right after publishing, so a retry that finds it set takes the
/// latest version as this job's instead of publishing again (the window left is the instant between the two writes).
/// </summary>
public sealed class JobOutputs(PlatformDbContext db, ModelService models)
{
    /// <summary>The version made (null when <paramref name="folder"/> was empty or missing) and what to say about it.</summary>
    public async Task<(int? Version, string Message)> KeepAsync(Job job, string? folder, Func<Task> keepAlive, CancellationToken ct)
    {
        var name = job.OutputModel!;
        var model = await db.Artifacts.AsNoTracking()
            .Where(a => a.AccountId == job.AccountId && a.Kind == ArtifactKind.Model && a.Name == name)
            .Select(a => new { a.Id, a.SourceJobId })
            .FirstOrDefaultAsync(ct);
        if (model is not null && model.SourceJobId == job.Id)
        {
            var latest = await db.ArtifactVersions.Where(v => v.ArtifactId == model.Id).MaxAsync(v => v.Number, ct);
            if (latest is { } number)
            {
                return (number, $"Outputs: version {number} of model {name} (published before the worker restarted)");
            }
        }

        var files = folder is not null && Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint })
                .Select(f => (Full: f, Path: Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/')))
                .OrderBy(f => f.Path, StringComparer.Ordinal).ToList()
            : [];
        if (files.Count == 0)
        {
            return (null, $"Outputs: output/ is empty, so no version of model {name} was made");
        }

        Guid modelId;
        if (model is null)
        {
            var created = await models.CreateModelAsync(job.OwnerUserId, new CreateModelRequest(
                job.AccountId, name, $"Made by the job {job.Name}.", null, null, null, null, default, default, default), ct);
            modelId = created.IsSuccess ? created.Value!.Id : throw new OutputException(created.Error!.Message);
        }
        else
        {
            modelId = model.Id;
        }

        long bytes = 0;
        foreach (var (full, path) in files)
        {
            await using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, useAsync: true);
            var uploaded = await models.UploadAsync(job.OwnerUserId, modelId, path, stream, stream.Length, ct);
            if (!uploaded.IsSuccess)
            {
                throw new OutputException($"{path}: {uploaded.Error!.Message}");
            }

            bytes += stream.Length;
            await keepAlive();
        }

        // The draft starts as a copy of the latest version: what this job did not write does not belong in its version.
        var wanted = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
        var stale = await db.ArtifactFiles
            .Where(f => db.ArtifactVersions.Any(v => v.Id == f.VersionId && v.ArtifactId == modelId && v.Number == null))
            .Select(f => f.Path).ToListAsync(ct);
        foreach (var path in stale.Where(p => !wanted.Contains(p)))
        {
            await models.DeleteDraftFileAsync(job.OwnerUserId, modelId, path, ct);
        }

        var published = await models.PublishAsync(job.OwnerUserId, modelId, ct);
        if (!published.IsSuccess)
        {
            throw new OutputException(published.Error!.Message);
        }

        await db.Artifacts.Where(a => a.Id == modelId).ExecuteUpdateAsync(s => s.SetProperty(a => a.SourceJobId, job.Id), CancellationToken.None);
        var version = int.Parse(published.Value!.Version, System.Globalization.CultureInfo.InvariantCulture);
        return (version, $"Outputs: output/ ({files.Count} file{(files.Count == 1 ? "" : "s")}, {bytes} bytes) became version {version} of model {name}");
    }
}
