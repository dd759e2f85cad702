namespace Platform.Web;

/// <summary>
/// Names the Web assembly for <c>WebApplicationFactory&lt;WebMarker&gt;</c>: Program is top-level and global,
/// and a test project that references both Web and Api would otherwise see two of them.
/// </summary>
public sealed class WebMarker;
