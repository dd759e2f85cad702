using Platform.AppHost.Hosting;

namespace Platform.AppHost.Storage;

/// <summary>
/// Step 2: the object store the services use. An operator's ConnectionStrings:objectstore (an S3 endpoint and
/// keys, or a folder) is passed through unchanged; otherwise a folder in the data directory, the embedded default.
/// </summary>
internal static class ObjectStorage
{
    public static string Prepare(AppHostOptions options, ConsoleOutput output)
    {
        if (options.ObjectStoreConnectionString is { } given)
        {
            output.Info("Using the object store given in ConnectionStrings:objectstore.");
            return given;
        }

        var folder = Path.Combine(options.DataDirectory, "objects");
        Directory.CreateDirectory(folder);
        return $"Folder={folder}";
    }
}
