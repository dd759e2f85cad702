namespace Platform.Core.Admin;

/// <summary>Platform-wide settings an admin changes at run time (key/value, JSON-free on purpose: few and simple).</summary>
public sealed class PlatformSetting
{
    public string Key { get; set; } = "";
    public string Value { get; set; } = "";
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Written periodically by each background process so the admin page can tell it is alive.</summary>
public sealed class ComponentHeartbeat
{
    public string Component { get; set; } = "";
    public string InstanceId { get; set; } = "";
    public string Host { get; set; } = "";
    public int ProcessId { get; set; }
    public string Version { get; set; } = "";
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }
}

public sealed class DataProtectionKey
{
    public int Id { get; set; }
    public string FriendlyName { get; set; } = "";
    public string Xml { get; set; } = "";
}
