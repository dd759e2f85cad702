using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Core.Persistence;
using Xunit.Abstractions;

namespace Platform.Notebook.Tests;

/// <summary>
/// The SDK's metrics client (<c>platformsdk.metrics</c>) against the real Api and PostgreSQL: Notebook/sdk/live_tests/
/// metrics_live.py, run with unittest. A script logs 10,000 steps of loss and accuracy and every point is stored once;
/// an outage mid-way (a relay the test takes down) loses nothing; a long one drops the oldest points and the run counts
/// them; a 400 is reported and not retried; a notebook's deployment key and a job's key log to the right runs.
/// </summary>
public sealed class SdkMetricsAgainstApiTests(LiveApi api, ITestOutputHelper log) : IClassFixture<LiveApi>
{
    [Fact]
    public async Task MetricsFromScriptsNotebooksAndJobs_AreStoredOnce_ThroughOutagesAndRefusals()
    {
        var owner = await api.CreateUserAsync("metrics-owner");
        var deploymentId = await api.DeploymentAsync(owner.Id);
        var notebookKey = await api.LaunchAsync(deploymentId);
        var (jobId, jobKey) = await RunningJobAsync(owner.Key);

        var output = await SdkUnitTests.RunPythonAsync("Notebook/sdk", ["-m", "unittest", "discover", "-s", "live_tests", "-p", "metrics_live.py", "-v"], new()
        {
            ["PLATFORM_API_URL"] = api.Address.ToString(),
            ["PLATFORM_TEST_OWNER_ID"] = owner.Id.ToString(),
            ["PLATFORM_TEST_OWNER_KEY"] = owner.Key,
            ["PLATFORM_TEST_NOTEBOOK_KEY"] = notebookKey,
            ["PLATFORM_TEST_JOB_ID"] = jobId.ToString(),
            ["PLATFORM_TEST_JOB_KEY"] = jobKey,
        });
        log.WriteLine(output); // the figures: seconds for 10,000 steps, points/s shipped to the Api
        Assert.Matches(@"Ran [1-9]\d* tests?", output);
        Assert.DoesNotContain("skipped", output);
        Assert.Contains("OK", output);
    }

    /// <summary>A job submitted by the owner and armed as the reconciler arms it: its key's hash stored, observed running.</summary>
    private async Task<(Guid Id, string Key)> RunningJobAsync(string ownerKey)
    {
        using var http = new HttpClient { BaseAddress = api.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ownerKey);
        var response = await http.PostAsJsonAsync("/api/v1/jobs", new { name = "board-job", command = new[] { "python3", "-c", "print(1)" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var key = JobKeys.New(id);
        var hash = Secrets.Hash(key);
        using var scope = api.Services.CreateScope();
        await scope.ServiceProvider.GetRequiredService<PlatformDbContext>().Jobs.Where(j => j.Id == id)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.TokenHash, hash).SetProperty(j => j.Observed, JobObserved.Running));
        return (id, key);
    }
}
