namespace Platform.Core.Jobs.Backends;

/// <summary>The per-job folders a backend keeps under its root (<c>{root}/{jobId}</c>).</summary>
public static class JobFolders
{
    /// <summary>The jobs that have a folder under <paramref name="root"/> (none when it does not exist yet).</summary>
    public static IReadOnlyList<Guid> In(string root) =>
        Directory.Exists(root)
            ? Directory.EnumerateDirectories(root).Select(Path.GetFileName).Select(n => Guid.TryParse(n, out var id) ? id : Guid.Empty)
                .Where(id => id != Guid.Empty).ToList()
            : [];

    /// <summary>The last write time of <c>{root}/{jobId}</c>, or MinValue when there is no such folder.</summary>
    public static DateTimeOffset LastChange(string root, Guid jobId)
    {
        var folder = Path.Combine(root, jobId.ToString());
        return Directory.Exists(folder) ? new DateTimeOffset(Directory.GetLastWriteTimeUtc(folder), TimeSpan.Zero) : DateTimeOffset.MinValue;
    }
}
