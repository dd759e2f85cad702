using System.Text.Json;

namespace Platform.Core.Deployments.Backends;

/// <summary>The opaque state backends keep in a row (JSON of their own record), read back tolerantly.</summary>
public static class BackendState
{
    /// <summary>The record <paramref name="state"/> holds when it is one and <paramref name="valid"/> says so; otherwise null.</summary>
    public static T? Parse<T>(string? state, Func<T, bool> valid) where T : class
    {
        if (string.IsNullOrWhiteSpace(state))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(state) is { } record && valid(record) ? record : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
