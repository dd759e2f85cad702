namespace Platform.Core.Datasets;

/// <summary>
/// A name for one published version of an artifact ("production", "staging"), usable wherever a version is given.
/// "latest" and "draft" are implicit and cannot be set. A version an alias points to cannot be deleted until the alias
/// moves or goes (the service refuses, and the foreign key backs it up).
/// </summary>
public sealed class ArtifactAlias
{
    public Guid ArtifactId { get; set; }
    public string Alias { get; set; } = "";
    public Guid VersionId { get; set; }
    public Guid SetByUserId { get; set; }
    public DateTimeOffset SetAt { get; set; }
}
