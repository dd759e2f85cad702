namespace Platform.Web;

/// <summary>Marks the Web assembly for WebApplicationFactory (Api has a Program too).</summary>
public sealed class WebMarker;
