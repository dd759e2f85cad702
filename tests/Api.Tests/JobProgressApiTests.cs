using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Jobs;

namespace Platform.Api.Tests;

/// <summary>
/// A job's own key (<c>plat_job_…</c>, what its replicas get as PLATFORM_API_KEY) and the progress it reports. Jobs are
/// armed here as the reconciler arms them: the hash of a key from <see cref="JobKeys.New"/> in TokenHash (appended to
/// an earlier one when a launch resumes), with the observed state set directly.
/// </summary>
public sealed class JobProgressApiTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    private static async Task<Guid> SubmitAsync(TestUser user)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/jobs", new { name = "train", command = new[] { "python3", "-c", "print(1)" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<string> LaunchAsync(Guid jobId, JobObserved observed = JobObserved.Running, byte[]? earlier = null)
    {
        var key = JobKeys.New(jobId);
        byte[] hash = earlier is null ? Secrets.Hash(key) : [.. earlier, .. Secrets.Hash(key)];
        await factory.WithDbAsync(db => db.Jobs.Where(j => j.Id == jobId)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.TokenHash, hash).SetProperty(j => j.Observed, observed)));
        return key;
    }

    [Fact]
    public async Task TheJobsOwnKey_ReportsProgress_AndTheJobShowsIt()
    {
        var owner = await factory.CreateUserAsync("trainer-owner");
        var id = await SubmitAsync(owner);
        var first = await LaunchAsync(id);
        var earlier = await factory.WithDbAsync(db => db.Jobs.Where(j => j.Id == id).Select(j => j.TokenHash!).SingleAsync());
        var resumed = await LaunchAsync(id, earlier: earlier);
        Assert.Matches("^plat_job_[0-9a-f]{32}_[0-9A-Za-z]{40}$", first);

        using var replica = factory.ClientWithKey(first);
        var response = await replica.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", new { fraction = 0.25, message = "epoch 1 of 4" });
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        using var later = factory.ClientWithKey(resumed);
        Assert.Equal(HttpStatusCode.NoContent, (await later.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", new { fraction = 0.5, message = "epoch 2 of 4" })).StatusCode);

        var job = await owner.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}");
        Assert.Equal(0.5, job.GetProperty("progress").GetDouble());
        Assert.Equal("epoch 2 of 4", job.GetProperty("progressMessage").GetString());
        // The key acts as the job's owner elsewhere too (the SDK inside a job reads its own job).
        Assert.Equal(HttpStatusCode.OK, (await replica.GetAsync($"/api/v1/jobs/{id}")).StatusCode);
    }

    [Fact]
    public async Task Progress_IsRefused_FromAnyoneButTheJob_AndWhenOutOfRange()
    {
        var owner = await factory.CreateUserAsync("progress-owner");
        var stranger = await factory.CreateUserAsync("progress-stranger");
        var id = await SubmitAsync(owner);
        var other = await SubmitAsync(owner);
        var key = await LaunchAsync(id);
        var otherKey = await LaunchAsync(other);
        var body = new { fraction = 0.5, message = "half" };

        await (await owner.Client.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", body)).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await stranger.Client.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", body)).AssertProblemAsync(HttpStatusCode.NotFound);
        using (var otherJob = factory.ClientWithKey(otherKey))
        {
            // Another job of the same owner: its key is not this job's.
            await (await otherJob.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", body)).AssertProblemAsync(HttpStatusCode.Forbidden);
        }

        using var replica = factory.ClientWithKey(key);
        var bad = await (await replica.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", new { fraction = 1.5, message = new string('x', 201) }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(bad.FieldErrors("fraction"));
        Assert.NotEmpty(bad.FieldErrors("message"));
        await (await replica.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", new { message = "no fraction" })).AssertProblemAsync(HttpStatusCode.BadRequest);

        // Once the job has ended, its key stops working.
        await factory.WithDbAsync(db => db.Jobs.Where(j => j.Id == id).ExecuteUpdateAsync(s => s.SetProperty(j => j.Observed, JobObserved.Succeeded)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await replica.PostAsJsonAsync($"/api/v1/jobs/{id}/progress", body)).StatusCode);
        using var forged = factory.ClientWithKey(JobKeys.New(other));
        Assert.Equal(HttpStatusCode.Unauthorized, (await forged.GetAsync($"/api/v1/jobs/{other}")).StatusCode);
    }
}
