namespace Platform.Core;

/// <summary>Marker for the Core assembly (migrations assembly, scanning).</summary>
public static class CoreAssembly;
