namespace Platform.Web.Navigation;

/// <summary>One area of the platform as the navigation bar and the home page present it.</summary>
/// <param name="Slug">The page address (<c>/{Slug}</c>) while the area is still to come.</param>
/// <param name="Coming">What the area will do, while it is still to come; null once it has pages of its own.</param>
public sealed record PlatformArea(string Name, string Slug, string Summary, string? Coming);

/// <summary>
/// The areas in navigation order. An area not built yet is served at /{Slug} by Pages/Coming.cshtml, which says
/// plainly what the area will do, so the navigation never leads nowhere. When an area gets pages of its own, their
/// literal route (/Jobs) outranks Coming's parameterised one, so the address and the navigation stay as they are;
/// only its <see cref="PlatformArea.Coming"/> text becomes unused and goes.
/// </summary>
public static class PlatformAreas
{
    public static readonly IReadOnlyList<PlatformArea> All =
    [
        new("Catalog", "Catalog",
            "Start a development environment, a module or your own image.", null),
        new("Deployments", "Deployments",
            "Your running notebooks, editors and module APIs.", null),
        new("Jobs", "Jobs",
            "Submit training jobs and follow them from queue to result.", null),
        new("Runs", "Runs",
            "Live training boards: the metrics your jobs and notebooks log, drawn as they arrive.", null),
        new("Datasets", "Datasets",
            "Upload, version and share data.", null),
        new("Models", "Models",
            "Versioned models, shared or published.", null),
        new("Serving", "Serving",
            "Model endpoints with replicas and live latency charts.",
            "Turn a model version into an endpoint at /serve/{name}/predict with as many replicas as it needs. Latency and "
            + "requests-per-second charts show how it copes; scale it up, shrink it, or deactivate it when you are done."),
        new("Usage", "Usage",
            "CPU and GPU hours per account and member.", null),
    ];

    public static PlatformArea? Find(string? slug) =>
        All.FirstOrDefault(a => string.Equals(a.Slug, slug, StringComparison.OrdinalIgnoreCase));

    /// <summary>An area still served by the placeholder page; a built one (Datasets, Models) has its own pages.</summary>
    public static PlatformArea? FindComing(string? slug) => Find(slug) is { Coming: not null } area ? area : null;
}
