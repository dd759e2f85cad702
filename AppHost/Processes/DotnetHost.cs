namespace Platform.AppHost.Processes;

/// <summary>The `dotnet` executable to start the services with: the same one that runs the AppHost when possible.</summary>
internal static class DotnetHost
{
    public static string Path()
    {
        var self = Environment.ProcessPath;
        if (self is not null && System.IO.Path.GetFileNameWithoutExtension(self) == "dotnet")
        {
            return self;
        }

        // Started through the apphost executable (dotnet run does that): the SDK tells us its host,
        // and DOTNET_ROOT is where an installed runtime lives.
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(System.IO.Path.Combine(root, "dotnet")))
        {
            return System.IO.Path.Combine(root, "dotnet");
        }

        return "dotnet";
    }
}
