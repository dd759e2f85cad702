using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;
using Platform.Core.Persistence;

namespace Platform.Web.Tests.Live;

/// <summary>
/// Jobs on the live hub, end to end: people signed in through Web, the hub through the front door, jobs submitted with
/// JobService, log chunks written as Workers' shipper writes them (object, row, NOTIFY job_logs) and state changes as
/// the reconciler makes them (row, NOTIFY jobs).
/// </summary>
public sealed class JobLiveTests(LiveFixture live) : IClassFixture<LiveFixture>
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task AnOwner_SubscribedToTheirJob_HearsItsLogLines_AndItsChanges()
    {
        var owner = await live.NewPersonAsync("trainer");
        var id = await SubmitAsync(owner);
        await ShipAsync(id, "before the subscription\n");
        await using var page = await live.ConnectAsync(owner);
        await using var listPage = await live.ConnectAsync(owner);

        var subscribed = await page.InvokeAsync("SubscribeJob", id);
        Assert.False(subscribed.TryGetProperty("error", out var error), error.ToString());
        Assert.Equal("queued", subscribed.GetProperty("result").GetProperty("state").GetString());
        Assert.Equal(id, subscribed.GetProperty("result").GetProperty("id").GetGuid());

        await ShipAsync(id, "epoch 1: loss 0.9 ✓\n");
        var line = await page.NextMessageAsync("JobLog", Soon);
        Assert.Equal(id, line.GetProperty("jobId").GetGuid());
        Assert.Equal("trainer-0", line.GetProperty("replica").GetString());
        Assert.Equal(1, line.GetProperty("seq").GetInt32()); // chunk 0 was there before: the page had it from the REST tail
        Assert.Equal("epoch 1: loss 0.9 ✓\n", line.GetProperty("text").GetString());
        await ShipAsync(id, "epoch 2: loss 0.5\n");
        Assert.Equal("epoch 2: loss 0.5\n", (await page.NextMessageAsync("JobLog", Soon, m => m.GetProperty("seq").GetInt32() == 2)).GetProperty("text").GetString());

        // What the reconciler does on a transition: change the row, NOTIFY jobs.
        await using (var db = DatabaseMigrator.CreateContext(live.ConnectionString))
        {
            await db.Jobs.Where(j => j.Id == id).ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Observed, JobObserved.Running).SetProperty(j => j.StartedAt, DateTimeOffset.UtcNow)
                .SetProperty(j => j.Progress, 0.25).SetProperty(j => j.ProgressMessage, "epoch 2 of 8"));
        }

        await NotifyAsync(JobService.Channel, id.ToString());
        var updated = await page.NextMessageAsync("JobUpdated", Soon, u => u.GetProperty("state").GetString() == "running");
        Assert.Equal(id, updated.GetProperty("id").GetGuid());
        Assert.Equal("running", updated.GetProperty("desired").GetString());
        Assert.Equal(0.25, updated.GetProperty("progress").GetDouble());
        Assert.Equal("epoch 2 of 8", updated.GetProperty("progressMessage").GetString());
        Assert.True(updated.TryGetProperty("queueReason", out _));
        Assert.True(updated.TryGetProperty("estimatedStartAt", out _));
        // The list page subscribed to nothing: the owner's user group brings it the change, and no log lines.
        await listPage.NextMessageAsync("JobUpdated", Soon, u => u.GetProperty("state").GetString() == "running");
        Assert.Empty(await listPage.MessagesWithinAsync("JobLog", TimeSpan.FromSeconds(0.5)));

        await page.InvokeAsync("UnsubscribeJob", id);
        await ShipAsync(id, "after leaving\n");
        Assert.Empty(await page.MessagesWithinAsync("JobLog", TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task AStranger_IsRefusedTheSubscription_AndHearsNothingOfTheJob()
    {
        var owner = await live.NewPersonAsync("owner");
        var stranger = await live.NewPersonAsync("eve");
        var id = await SubmitAsync(owner);
        await using var ownerHub = await live.ConnectAsync(owner);
        await using var strangerHub = await live.ConnectAsync(stranger);

        var refused = await strangerHub.InvokeAsync("SubscribeJob", id);
        Assert.Contains("not found", refused.GetProperty("error").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.False(refused.TryGetProperty("result", out _));
        Assert.False((await ownerHub.InvokeAsync("SubscribeJob", id)).TryGetProperty("error", out _));

        await ShipAsync(id, "the owner's secret\n");
        Assert.Equal("the owner's secret\n", (await ownerHub.NextMessageAsync("JobLog", Soon)).GetProperty("text").GetString());
        await NotifyAsync(JobService.Channel, id.ToString());
        await ownerHub.NextMessageAsync("JobUpdated", Soon);
        Assert.Empty(await strangerHub.MessagesWithinAsync("JobLog", TimeSpan.FromSeconds(1)));
        Assert.Empty(await strangerHub.MessagesWithinAsync("JobUpdated", TimeSpan.FromSeconds(0.5)));
    }

    private Task<Guid> SubmitAsync(Person owner) => new JobLogWriter(live).SubmitAsync(owner.Id, owner.AccountId);

    private Task ShipAsync(Guid jobId, string text) => new JobLogWriter(live).ShipAsync(jobId, text);

    private Task NotifyAsync(string channel, string payload) => new JobLogWriter(live).NotifyAsync(channel, payload);
}
