namespace Platform.Core.Catalog;

/// <summary>The catalog's search, the same for the API and the pages.</summary>
public static class CatalogSearch
{
    /// <summary>
    /// Modules in catalog order whose name, title, summary or tags contain every word of <paramref name="search"/>
    /// (case-insensitive), and that carry <paramref name="tag"/> when one is given.
    /// </summary>
    public static IReadOnlyList<ModuleManifest> Filter(IEnumerable<ModuleManifest> modules, string? search, string? tag)
    {
        var words = (search ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var wanted = string.IsNullOrWhiteSpace(tag) ? null : tag.Trim();
        return modules
            .Where(m => wanted is null || m.Tags.Contains(wanted, StringComparer.OrdinalIgnoreCase))
            .Where(m => words.All(w => m.Name.Contains(w, StringComparison.OrdinalIgnoreCase)
                || m.Title.Contains(w, StringComparison.OrdinalIgnoreCase)
                || m.Summary.Contains(w, StringComparison.OrdinalIgnoreCase)
                || m.Tags.Any(t => t.Contains(w, StringComparison.OrdinalIgnoreCase))))
            .ToList();
    }

    /// <summary>Every tag in the catalog, each once, alphabetically: the choices of a tag filter.</summary>
    public static IReadOnlyList<string> Tags(IEnumerable<ModuleManifest> modules) =>
        modules.SelectMany(m => m.Tags).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
}
