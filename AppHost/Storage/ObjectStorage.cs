using Platform.AppHost.Hosting;
using Platform.Core.Storage;

namespace Platform.AppHost.Storage;

/// <summary>
/// Step 2: the object store the services use. An operator's ConnectionStrings:objectstore (an S3 endpoint and
/// keys, or a folder) is passed through unchanged; otherwise a folder in the data directory, the embedded default.
/// Either way the store is made ready (folder or bucket created) and checked before any service starts.
/// </summary>
internal static class ObjectStorage
{
    public static async Task<string> PrepareAsync(AppHostOptions options, ConsoleOutput output, CancellationToken ct)
    {
        var connectionString = options.ObjectStoreConnectionString ?? $"Folder={Path.Combine(options.DataDirectory, "objects")}";
        ObjectStoreSettings settings;
        try
        {
            settings = ObjectStoreSettings.Parse(connectionString);
        }
        catch (FormatException ex)
        {
            throw new StartupFailure(ex.Message);
        }

        IObjectStore store = settings.S3 is { } s3 ? new S3ObjectStore(s3) : new FileSystemObjectStore(settings.Folder!);
        try
        {
            await store.EnsureReadyAsync(ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new StartupFailure($"The object store ({store.Location}) is not usable: {ex.Message}");
        }
        finally
        {
            (store as IDisposable)?.Dispose();
        }

        output.Info(options.ObjectStoreConnectionString is null
            ? $"Objects are kept in {settings.Folder}."
            : $"Using the object store given in ConnectionStrings:objectstore ({store.Kind}: {store.Location}).");
        return connectionString;
    }
}
