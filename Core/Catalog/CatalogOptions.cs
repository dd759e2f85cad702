namespace Platform.Core.Catalog;

/// <summary>Where the module catalog comes from (<c>Platform:Catalog</c>); every value is optional.</summary>
public sealed class CatalogOptions
{
    public const string Section = "Platform:Catalog";

    /// <summary>A folder of modules; default: <c>Notebook/modules</c> found upwards from the content root or the binaries.</summary>
    public string? Folder { get; set; }

    /// <summary>A git repository of modules (one folder each at its root); takes precedence over <see cref="Folder"/>.</summary>
    public string? GitUrl { get; set; }

    /// <summary>The branch to follow; default: the repository's default branch.</summary>
    public string? GitBranch { get; set; }

    /// <summary>Where the clone lives; default: <c>{Platform:DataDir or temp}/catalog/{application}-{hash of the URL}</c>.</summary>
    public string? CacheFolder { get; set; }

    /// <summary>How long one git command may run before it is killed and the reload fails.</summary>
    public int GitTimeoutSeconds { get; set; } = 120;

    /// <summary>How often, at most, a process asks the database whether another process reloaded the catalog.</summary>
    public double SyncSeconds { get; set; } = 5;

    /// <summary>The shared secret of <c>POST /api/v1/catalog/webhook</c>; without one the webhook is off.</summary>
    public string? WebhookSecret { get; set; }
}
