namespace Platform.AppHost.Processes;

internal enum HealthOutcome
{
    Healthy,
    Exited,
    TimedOut,
    Cancelled,
}

/// <summary>Polls a child's /health until it answers 200, the child exits, or the time is up.</summary>
internal static class HealthProbe
{
    private static readonly HttpClient Client = new() { Timeout = TimeSpan.FromSeconds(3) };

    public static async Task<HealthOutcome> WaitAsync(Uri url, Task exited, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (ct.IsCancellationRequested)
            {
                return HealthOutcome.Cancelled;
            }

            if (exited.IsCompleted)
            {
                return HealthOutcome.Exited;
            }

            if (await AnswersOkAsync(url, ct).ConfigureAwait(false))
            {
                return HealthOutcome.Healthy;
            }

            if (DateTime.UtcNow >= deadline)
            {
                return HealthOutcome.TimedOut;
            }

            // Short polls: the services are usually ready within a second or two of starting.
            await Task.WhenAny(exited, Task.Delay(TimeSpan.FromMilliseconds(150), ct)).ConfigureAwait(false);
        }
    }

    private static async Task<bool> AnswersOkAsync(Uri url, CancellationToken ct)
    {
        try
        {
            using var response = await Client.GetAsync(url, ct).ConfigureAwait(false);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }
}
