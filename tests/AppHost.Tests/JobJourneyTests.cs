using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.AppHost.Tests;

/// <summary>
/// Issue 5's "done when", on the real platform (process backend, Debian's Jupyter, the node declaring 2 GPUs): from a
/// notebook, <c>create_cloud_job(...)</c> submits a job of two trainers and a parameter server; while the account's
/// GPU-hours are spent the web shows it queued with that reason; once an admin allows more, it runs; each replica's
/// log follows live (the SDK inside the kernel, and the API); the outputs become a model version; the usage report
/// shows the CPU-hours it consumed. Nobody else sees the job or its logs.
/// </summary>
[Collection(JupyterPlatform.Collection)]
public sealed class JobJourneyTests(JupyterPlatform platform)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task CreateCloudJob_FromANotebook_WaitsForTheGpuBudget_RunsWhenAllowed_FollowsLogs_AndIsAccounted()
    {
        using var owner = await PlatformSession.SignUpAsync(platform.Url, "job-owner@example.test");
        using var stranger = await PlatformSession.SignUpAsync(platform.Url, "job-stranger@example.test");
        var accountId = (await owner.Http.GetFromJsonAsync<JsonElement>("/api/v1/me")).GetProperty("currentAccountId").GetGuid();

        // The admin gives the account 0.002 GPU-hours (7.2 GPU-seconds) a day, and a first GPU job spends them.
        await PutQuotaAsync(platform.Admin, accountId, gpuHoursPerDay: 0.002);
        var warmUp = await owner.Http.PostAsJsonAsync("/api/v1/jobs", new { name = "warm-up", command = new[] { "sleep", "8" }, trainers = new { count = 2, gpus = 1, cpus = 0.1, memoryMiB = 64 } });
        Assert.True(warmUp.StatusCode == HttpStatusCode.Created, await warmUp.Content.ReadAsStringAsync());
        var warmUpId = (await warmUp.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        Assert.Equal("succeeded", (await WaitForJobAsync(owner, warmUpId, j => j.GetProperty("state").GetString() is "succeeded" or "failed", "an end")).GetProperty("state").GetString());
        await WaitForUsageAsync(owner, warmUpId, row => row.GetProperty("gpuHours").GetDouble() >= 0.002);

        const string password = "job journey 42";
        var deploymentId = await owner.CreateJupyterAsync("job notebook", password);
        await owner.WaitForAsync(deploymentId, "running", Timeout);
        var jupyter = new JupyterThroughTheFrontDoor(owner, deploymentId);
        await jupyter.LoginAsync(password);
        var created = await jupyter.SendAsync(HttpMethod.Put, "api/contents/regression", new { type = "directory" });
        Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync());
        var script = await File.ReadAllTextAsync(Path.Combine(StartedPlatform.RepositoryRoot, "Notebook", "examples", "distributed-regression", "train.py"));
        var written = await jupyter.SendAsync(HttpMethod.Put, "api/contents/regression/train.py", new { type = "file", format = "text", content = script });
        Assert.True(written.IsSuccessStatusCode, await written.Content.ReadAsStringAsync());

        var kernel = await jupyter.StartKernelAsync();
        var submitted = await jupyter.ExecuteAsync(kernel, """
            import os, platformsdk
            os.chdir("regression")
            job = platformsdk.create_cloud_job("regression", num_trainer=2, mem_per_trainer="512Mi", gpu_per_trainer=1, cpu_per_trainer=0.5,
                                               num_ps=1, mem_per_ps="256Mi", cpu_per_ps=0.5, command="python3 train.py", code_dir=".",
                                               options={"epochs": 40}, output_model="regression")
            job["id"] + " " + job["state"]
            """, Timeout);
        var parts = submitted.Trim('\'').Split(' ');
        var jobId = Guid.Parse(parts[0]);
        Assert.Equal("queued", parts[1]);

        // Queued, with the exact reason, on the API and on the job's page.
        var queued = await WaitForJobAsync(owner, jobId, j => j.GetProperty("queueReason").GetString()?.Contains("GPU-hours") == true, "the GPU budget's reason");
        Assert.Equal("queued", queued.GetProperty("state").GetString());
        var reason = queued.GetProperty("queueReason").GetString()!;
        Assert.StartsWith("waiting: the account's GPU-hours for today are spent (", reason);
        Assert.Contains("; they reset", reason);
        var page = await owner.Http.GetStringAsync($"/Jobs/{jobId}");
        Assert.Contains("GPU-hours for today are spent", page);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/Jobs/{jobId}")).StatusCode);

        // The admin allows GPU time: the scheduler admits it and it runs.
        await PutQuotaAsync(platform.Admin, accountId, gpuHoursPerDay: 10);
        await WaitForJobAsync(owner, jobId, j => j.GetProperty("state").GetString() is "running" or "succeeded", "running");

        // Inside the notebook, the SDK follows trainer-1's log live until the replica ends.
        var followed = await jupyter.ExecuteAsync(kernel, $"""
            lines = list(platformsdk.Client().jobs.logs("{jobId}", "trainer-1", follow=True, timeout=110))
            str(sum("epoch" in l for l in lines)) + "|" + lines[-1]
            """, Timeout);
        var (epochLines, lastLine) = (int.Parse(followed.Trim('\'').Split('|')[0]), followed.Trim('\'').Split('|', 2)[1]);
        Assert.True(epochLines >= 8, followed);
        Assert.Contains("epoch 40", lastLine);

        var done = await WaitForJobAsync(owner, jobId, j => j.GetProperty("state").GetString() is "succeeded" or "failed" or "stopped", "an end");
        Assert.True(done.GetProperty("state").GetString() == "succeeded", done.ToString());
        Assert.Equal(1, done.GetProperty("outputModelVersion").GetInt32());
        Assert.Equal(1.0, done.GetProperty("progress").GetDouble());
        Assert.All(done.GetProperty("replicas").EnumerateArray(), r => Assert.Equal(0, r.GetProperty("exitCode").GetInt32()));

        // Every replica's log through the API: the parameter server saw both trainers finish.
        var pserver = await owner.Http.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}/logs?replica=pserver-0&after=-1");
        Assert.Contains("every trainer is done", string.Concat(pserver.GetProperty("chunks").EnumerateArray().Select(c => c.GetProperty("text").GetString())));
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Http.GetAsync($"/api/v1/jobs/{jobId}/logs?replica=trainer-0")).StatusCode);

        // The usage report counts the job's CPU-hours (allocated: 2 × 0.5 + 0.5 CPUs for as long as it held them).
        var usage = await WaitForUsageAsync(owner, jobId, row => row.GetProperty("cpuHours").GetDouble() > 0);
        Assert.True(usage.GetProperty("cpuHours").GetDouble() > 0, usage.ToString());
        var usagePage = await owner.Http.GetStringAsync("/Usage");
        Assert.Contains("regression", usagePage);

        Assert.Equal(HttpStatusCode.NoContent, (await owner.Http.DeleteAsync($"/api/v1/deployments/{deploymentId}")).StatusCode);
        await owner.WaitUntilDeletedAsync(deploymentId, Timeout);
        await platform.WaitUntilGoneAsync(deploymentId, Timeout);
    }

    private static async Task PutQuotaAsync(PlatformSession admin, Guid accountId, double gpuHoursPerDay)
    {
        var response = await admin.Http.PutAsJsonAsync($"/api/v1/admin/accounts/{accountId}/job-quotas", new { gpuHoursPerDay });
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private static async Task<JsonElement> WaitForJobAsync(PlatformSession session, Guid jobId, Func<JsonElement, bool> done, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var job = await session.Http.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}");
            if (done(job))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job not at {what} within {Timeout.TotalSeconds:0} s: {job}");
            await Task.Delay(250);
        }
    }

    /// <summary>The job's row of the day's report once it is as <paramref name="done"/> says (Workers account a finished job within seconds of its end).</summary>
    private static async Task<JsonElement> WaitForUsageAsync(PlatformSession session, Guid jobId, Func<JsonElement, bool> done)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var report = await session.Http.GetFromJsonAsync<JsonElement>("/api/v1/usage?window=day");
            var row = report.GetProperty("workloads").EnumerateArray().FirstOrDefault(w => w.GetProperty("id").GetGuid() == jobId);
            if (row.ValueKind == JsonValueKind.Object && done(row))
            {
                return row;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the usage report does not count job {jobId}: {report}");
            await Task.Delay(500);
        }
    }
}
