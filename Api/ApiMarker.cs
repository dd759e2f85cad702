namespace Platform.Api;

/// <summary>Marks the Api assembly for WebApplicationFactory (Web has a Program too).</summary>
public sealed class ApiMarker;
