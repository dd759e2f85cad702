namespace Platform.AppHost.Hosting;

/// <summary>
/// An expected failure (no PostgreSQL binaries, a taken port, a failed migration): the launcher prints the
/// message, not a stack trace, stops what already runs and exits non-zero. Thrown rather than returned because
/// every step of the start sequence can fail and each failure ends the whole run the same way.
/// </summary>
internal sealed class StartupFailure(string message) : Exception(message);

internal static class ExitCodes
{
    public const int Stopped = 0;
    public const int StartupFailed = 1;
    public const int Usage = 2;
    public const int GaveUpRestarting = 3;
}
