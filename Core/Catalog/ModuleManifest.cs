namespace Platform.Core.Catalog;

/// <summary>
/// A catalog module as its manifest (<c>Notebook/modules/{name}/module.json</c>) describes it: what it is, which image
/// to run on which hardware, the services it offers and the resources a deployment of it may ask for. The catalog
/// loads these; deployments are validated against them.
/// </summary>
public sealed record ModuleManifest(
    string Name,
    string Title,
    string Summary,
    string ReadmeMarkdown,
    IReadOnlyList<string> Tags,
    IReadOnlyList<ModuleService> Services,
    ModuleImages Images,
    ModuleResources Resources,
    ModuleCommands Commands)
{
    /// <summary>The module's folder on this machine (its files: the API package, train.py); null when not loaded from disk.</summary>
    public string? Folder { get; init; }
}

/// <summary>jupyter, vscode or api: what a deployment of the module serves.</summary>
public enum ModuleService
{
    Jupyter,
    VsCode,
    Api,
}

/// <summary>
/// Container images per hardware (for the container backends), with the tags a user may pick. <c>Custom</c> ("Run your
/// own image"): the user names the image at deploy time; it runs under its own entrypoint.
/// </summary>
public sealed record ModuleImages(string? Cpu, string? Gpu, IReadOnlyList<string> Tags, bool Custom = false);

/// <summary>What a deployment asks for by default and the most it may ask for (the admin's limits apply on top).</summary>
public sealed record ModuleResources(ResourceRequest Default, ResourceRequest Max);

public sealed record ResourceRequest(double Cpus, int Gpus, int MemoryMiB, int DiskGiB);

/// <summary>
/// How the process backend runs the module's own services: the API command (run in the workspace, told its port and
/// base path through PORT and BASE_PATH) and the training entry point; null where the module has none.
/// </summary>
public sealed record ModuleCommands(IReadOnlyList<string>? Api, IReadOnlyList<string>? Train);

/// <summary>The catalog as loaded: the modules that parsed, and the errors of those that did not (shown to admins).</summary>
public sealed record CatalogSnapshot(IReadOnlyList<ModuleManifest> Modules, IReadOnlyList<CatalogError> Errors, DateTimeOffset LoadedAt, string Source);

public sealed record CatalogError(string Module, string Message);

/// <summary>The current catalog, reloadable; deployments read modules from it by name.</summary>
public interface IModuleCatalog
{
    CatalogSnapshot Current { get; }

    ModuleManifest? Find(string name);
}
