using System.Globalization;
using Microsoft.Extensions.Configuration;
using Platform.Core.Datasets;
using Platform.Core.Deployments.Backends;
using Platform.Core.Storage;

namespace Platform.Core.Deployments;

/// <summary>
/// A deployment's <c>datasets</c> (<c>name@version</c> references) as folders a workload can mount. Create checks each
/// names a published version the owner can read (<see cref="ProblemAsync"/>); every start resolves them again as the
/// owner (a revoked share, a deleted version or a moved alias fails the start, and <c>@latest</c> is the latest at
/// that start) and materialises each version once per host into <see cref="DatasetCacheOptions.Root"/>/<c>{versionId}</c>.
/// Published versions never change, so a folder is shared by every deployment and every later start that mounts
/// that version. It is written under a temporary name and renamed into place only once complete, so a folder under
/// its final name is always whole; files are 0444 and folders 0555 (the process backend's read-only: root ignores
/// file modes, a container backend binds the folder read-only as well). A folder whose files no longer match the
/// version's manifest by path and size is rebuilt.
/// </summary>
public sealed class DatasetMounts(DatasetService datasets, IObjectStore store, DatasetCacheOptions options)
{
    private const UnixFileMode ReadOnlyFile = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode ReadOnlyFolder = ReadOnlyFile | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
    private const UnixFileMode WritableFolder = ReadOnlyFolder | UnixFileMode.UserWrite;

    /// <summary>Why <paramref name="reference"/> (syntactically valid) cannot be mounted by the user, or null when it can.</summary>
    public async Task<string?> ProblemAsync(Guid userId, Guid accountId, string reference, CancellationToken ct = default)
    {
        var (name, version) = Split(reference);
        var found = await datasets.FindReadableVersionAsync(userId, name, version, accountId, ct);
        return found.IsSuccess ? null : found.Error!.Message;
    }

    /// <summary>
    /// Resolves the references as the owner and materialises each version, reporting one line per dataset; throws
    /// <see cref="WorkloadException"/> with the reason when one cannot be resolved or its files cannot be fetched.
    /// </summary>
    public async Task<IReadOnlyList<WorkloadMount>> PrepareAsync(
        Guid ownerUserId, Guid accountId, IReadOnlyList<string> references, IProgress<string> progress, CancellationToken ct)
    {
        var mounts = new List<WorkloadMount>();
        foreach (var reference in references)
        {
            var (name, version) = Split(reference);
            var found = await datasets.FindReadableVersionAsync(ownerUserId, name, version, accountId, ct);
            if (!found.IsSuccess)
            {
                throw new WorkloadException($"Dataset {reference} cannot be mounted: {found.Error!.Message}");
            }

            var v = found.Value!;
            string folder;
            try
            {
                folder = await MaterializeAsync(v, ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                throw new WorkloadException($"Dataset {name}@{v.Number} could not be fetched: {ex.Message}");
            }

            progress.Report($"Mounting dataset {name}@{v.Number} ({v.FileCount} files, {Size(v.TotalBytes)})");
            mounts.Add(new WorkloadMount(name, reference, folder));
        }

        return mounts;
    }

    /// <summary>The cache folder of a version, materialised now unless an intact one is there.</summary>
    public async Task<string> MaterializeAsync(ReadableVersion version, CancellationToken ct)
    {
        var files = new List<ArtifactFile>();
        await foreach (var file in datasets.FilesOfVersion(version.VersionId).WithCancellation(ct))
        {
            files.Add(file);
        }

        Directory.CreateDirectory(options.Root);
        var final = Path.Combine(options.Root, version.VersionId.ToString("N"));
        if (Directory.Exists(final))
        {
            if (Matches(final, files))
            {
                return final;
            }

            RemoveTree(final);
        }

        var staging = Path.Combine(options.Root, $".partial-{version.VersionId:N}-{Guid.NewGuid():N}");
        try
        {
            await WriteFilesAsync(staging, files, ct);
            SetReadOnly(staging);
            try
            {
                Directory.Move(staging, final);
            }
            catch (IOException) when (Directory.Exists(final) && Matches(final, files))
            {
                // Another start materialised the same version meanwhile: theirs is as good as ours.
                RemoveTree(staging);
            }

            return final;
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                RemoveTree(staging);
            }

            throw;
        }
    }

    private async Task WriteFilesAsync(string staging, List<ArtifactFile> files, CancellationToken ct)
    {
        var root = Path.GetFullPath(staging) + Path.DirectorySeparatorChar;
        Directory.CreateDirectory(staging);
        foreach (var file in files)
        {
            // Paths were checked on upload (ArtifactPath); checked again so no row can write outside the folder.
            var target = Path.GetFullPath(Path.Combine(staging, file.Path));
            if (!target.StartsWith(root, StringComparison.Ordinal))
            {
                throw new InvalidDataException($"'{file.Path}' is not a path inside the dataset.");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            await using (var reader = await store.OpenReadAsync(file.ObjectKey, null, ct)
                ?? throw new InvalidDataException($"the bytes of '{file.Path}' are missing from storage"))
            await using (var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, useAsync: true))
            {
                await reader.Content.CopyToAsync(output, ct);
            }

            if (new FileInfo(target).Length != file.Size)
            {
                throw new InvalidDataException($"'{file.Path}' has {new FileInfo(target).Length} bytes in storage, not {file.Size}");
            }
        }
    }

    /// <summary>Whether the folder holds exactly the version's files, by path and size.</summary>
    private static bool Matches(string folder, List<ArtifactFile> files)
    {
        var present = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(folder, f).Replace(Path.DirectorySeparatorChar, '/'), f => new FileInfo(f).Length, StringComparer.Ordinal);
        return present.Count == files.Count && files.All(f => present.TryGetValue(f.Path, out var size) && size == f.Size);
    }

    private static void SetReadOnly(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
        {
            SetMode(file, ReadOnlyFile);
        }

        // Deepest first, so a folder is still writable while its children change.
        foreach (var sub in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories).OrderByDescending(d => d.Length))
        {
            SetMode(sub, ReadOnlyFolder);
        }

        SetMode(folder, ReadOnlyFolder);
    }

    /// <summary>Removes a read-only tree: its folders must be writable again before anything in them can go.</summary>
    private static void RemoveTree(string folder)
    {
        SetMode(folder, WritableFolder);
        foreach (var sub in Directory.EnumerateDirectories(folder, "*", SearchOption.AllDirectories))
        {
            SetMode(sub, WritableFolder);
        }

        Directory.Delete(folder, recursive: true);
    }

    /// <summary>File modes are the process backend's read-only; the platform runs its workloads on Linux only.</summary>
    private static void SetMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static (string Name, string Version) Split(string reference)
    {
        var at = reference.IndexOf('@');
        return at < 0 ? (reference, "latest") : (reference[..at], reference[(at + 1)..]);
    }

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{Math.Round(bytes / 1024.0).ToString(CultureInfo.InvariantCulture)} KB",
        < 1024L * 1024 * 1024 => $"{Math.Round(bytes / (1024.0 * 1024)).ToString(CultureInfo.InvariantCulture)} MB",
        _ => $"{(bytes / (1024.0 * 1024 * 1024)).ToString("0.#", CultureInfo.InvariantCulture)} GB",
    };
}

/// <summary>Where materialised dataset versions are kept on this host.</summary>
public sealed record DatasetCacheOptions(string Root)
{
    /// <summary><c>Platform:Deployments:DatasetCache</c>, else <c>{Platform:DataDir}/dataset-cache</c>, else one in the temp folder.</summary>
    public static DatasetCacheOptions From(IConfiguration configuration) => new(
        configuration["Platform:Deployments:DatasetCache"] is { Length: > 0 } root ? root
        : configuration["Platform:DataDir"] is { Length: > 0 } data ? Path.Combine(data, "dataset-cache")
        : Path.Combine(Path.GetTempPath(), "platform-dataset-cache"));
}
