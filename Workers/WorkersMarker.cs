namespace Platform.Workers;

/// <summary>Marks the Workers assembly for WebApplicationFactory.</summary>
public sealed class WorkersMarker;
