using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Jobs;
using Platform.Core.Storage;

namespace Platform.Api.Tests;

/// <summary>
/// The logs API over chunks written as Workers' shipper writes them (an object in the store, then its row and the
/// replica's LogBytes), on a real PostgreSQL and a folder object store.
/// </summary>
public sealed class JobLogsApiTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    private async Task<Guid> SubmitAsync(TestUser user)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/jobs", new { name = "logs", command = new[] { "sh", "-c", "true" } });
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
        // As if the reconciler had started its replica.
        await factory.WithDbAsync(db => db.JobReplicas.Where(r => r.JobId == id)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.BackendState, "{\"Pid\":1}").SetProperty(r => r.Observed, ReplicaObserved.Running)));
        return id;
    }

    /// <summary>Ships one chunk of trainer-0's log the way the shipper does.</summary>
    private async Task ShipAsync(Guid jobId, string text, bool complete = false)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        await factory.WithDbAsync(async db =>
        {
            var replica = await db.JobReplicas.SingleAsync(r => r.JobId == jobId && r.Role == ReplicaRole.Trainer && r.Index == 0);
            var seq = await db.JobLogChunks.CountAsync(c => c.JobId == jobId);
            var key = JobLogService.KeyOf(jobId, "trainer-0", seq);
            await factory.Services.GetRequiredService<IObjectStore>().PutAsync(key, new MemoryStream(bytes), bytes.Length);
            db.JobLogChunks.Add(new JobLogChunk
            {
                JobId = jobId, Role = ReplicaRole.Trainer, Index = 0, Seq = seq, Offset = replica.LogBytes, Bytes = bytes.Length,
                Lines = text.Count(c => c == '\n'), ObjectKey = key, FirstAt = DateTimeOffset.UtcNow, LastAt = DateTimeOffset.UtcNow,
            });
            replica.LogBytes += bytes.Length;
            replica.LogState = complete ? JobLogState.Complete : JobLogState.Shipping;
            return await db.SaveChangesAsync();
        });
    }

    private static async Task<JsonElement> GetAsync(TestUser user, string url)
    {
        var response = await user.Client.GetAsync(url);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonDocument.Parse(text).RootElement;
    }

    private static string TextOf(JsonElement page) =>
        string.Concat(page.GetProperty("chunks").EnumerateArray().Select(c => c.GetProperty("text").GetString()));

    [Fact]
    public async Task Logs_GiveTheTail_ThenWhatFollows_AndSayWhenTheReplicaIsFinished()
    {
        var user = await factory.CreateUserAsync();
        var id = await SubmitAsync(user);
        var empty = await GetAsync(user, $"/api/v1/jobs/{id}/logs");
        Assert.Equal("trainer-0", empty.GetProperty("replica").GetString());
        Assert.Equal(["trainer-0"], empty.GetProperty("replicas").EnumerateArray().Select(r => r.GetString()));
        Assert.Empty(empty.GetProperty("chunks").EnumerateArray());
        Assert.Equal(-1, empty.GetProperty("next").GetInt32());
        Assert.False(empty.GetProperty("finished").GetBoolean());

        await ShipAsync(id, "one\ntwo\n");
        await ShipAsync(id, "three\nfour\n");
        await ShipAsync(id, "five\n");

        var all = await GetAsync(user, $"/api/v1/jobs/{id}/logs?replica=trainer-0");
        Assert.Equal("one\ntwo\nthree\nfour\nfive\n", TextOf(all));
        Assert.Equal(2, all.GetProperty("next").GetInt32());

        var tail = await GetAsync(user, $"/api/v1/jobs/{id}/logs?tail=2");
        Assert.Equal("four\nfive\n", TextOf(tail));
        Assert.Equal("three\n".Length + "one\ntwo\n".Length, tail.GetProperty("chunks")[0].GetProperty("offset").GetInt64());
        Assert.Equal(2, tail.GetProperty("next").GetInt32());

        var after = await GetAsync(user, $"/api/v1/jobs/{id}/logs?after=0");
        Assert.Equal([1, 2], after.GetProperty("chunks").EnumerateArray().Select(c => c.GetProperty("seq").GetInt32()));
        Assert.Equal("three\nfour\nfive\n", TextOf(after));
        Assert.Equal(8, after.GetProperty("chunks")[0].GetProperty("offset").GetInt64());
        Assert.False(after.GetProperty("finished").GetBoolean());

        var fromStart = await GetAsync(user, $"/api/v1/jobs/{id}/logs?after=-1");
        Assert.Equal("one\ntwo\nthree\nfour\nfive\n", TextOf(fromStart));

        await ShipAsync(id, "six (the last)\n", complete: true);
        var last = await GetAsync(user, $"/api/v1/jobs/{id}/logs?after=2&wait=10");
        Assert.Equal("six (the last)\n", TextOf(last));
        Assert.Equal(3, last.GetProperty("next").GetInt32());
        Assert.True(last.GetProperty("finished").GetBoolean());

        // Finished: a wait returns at once with nothing more.
        var clock = Stopwatch.StartNew();
        var done = await GetAsync(user, $"/api/v1/jobs/{id}/logs?after=3&wait=20");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"waited {clock.Elapsed} on a finished log");
        Assert.Empty(done.GetProperty("chunks").EnumerateArray());
        Assert.Equal(3, done.GetProperty("next").GetInt32());
        Assert.True(done.GetProperty("finished").GetBoolean());
    }

    [Fact]
    public async Task Wait_LongPollsUntilAChunkArrives_OrTheTimeIsUp()
    {
        var user = await factory.CreateUserAsync();
        var id = await SubmitAsync(user);
        await ShipAsync(id, "first\n");

        var clock = Stopwatch.StartNew();
        var nothing = await GetAsync(user, $"/api/v1/jobs/{id}/logs?after=0&wait=1");
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.7), TimeSpan.FromSeconds(6));
        Assert.Empty(nothing.GetProperty("chunks").EnumerateArray());
        Assert.Equal(0, nothing.GetProperty("next").GetInt32());

        clock.Restart();
        var waiting = GetAsync(user, $"/api/v1/jobs/{id}/logs?after=0&wait=20");
        await Task.Delay(1500);
        Assert.False(waiting.IsCompleted, "the long poll answered before anything was shipped");
        await ShipAsync(id, "second\n");
        var page = await waiting;
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"answered after {clock.Elapsed}");
        Assert.Equal("second\n", TextOf(page));
        Assert.Equal(1, page.GetProperty("next").GetInt32());
    }

    [Fact]
    public async Task Download_StreamsEveryChunkInOrder_AsAnAttachment()
    {
        var user = await factory.CreateUserAsync();
        var id = await SubmitAsync(user);
        var expected = new StringBuilder();
        for (var i = 0; i < 20; i++)
        {
            var text = string.Concat(Enumerable.Range(0, 50).Select(l => $"chunk {i} line {l} ✓\n"));
            expected.Append(text);
            await ShipAsync(id, text);
        }

        var response = await user.Client.GetAsync($"/api/v1/jobs/{id}/logs/download?replica=trainer-0");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.Equal("logs-trainer-0.log", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        Assert.Equal(expected.ToString(), Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
    }

    [Fact]
    public async Task AnotherUsersLogs_AreNotFound_AndBadParameters_AreExplained()
    {
        var owner = await factory.CreateUserAsync();
        var stranger = await factory.CreateUserAsync();
        var id = await SubmitAsync(owner);
        await ShipAsync(id, "secret\n");

        foreach (var url in new[] { $"/api/v1/jobs/{id}/logs", $"/api/v1/jobs/{id}/logs?after=-1&wait=1", $"/api/v1/jobs/{id}/logs/download" })
        {
            var response = await stranger.Client.GetAsync(url);
            await response.AssertProblemAsync(HttpStatusCode.NotFound);
        }

        var missing = await owner.Client.GetAsync($"/api/v1/jobs/{Guid.CreateVersion7()}/logs");
        await missing.AssertProblemAsync(HttpStatusCode.NotFound);

        var bad = await owner.Client.GetAsync($"/api/v1/jobs/{id}/logs?tail=0&wait=31&after=-2");
        var problem = await bad.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.FieldErrors("tail"));
        Assert.NotEmpty(problem.FieldErrors("wait"));
        Assert.NotEmpty(problem.FieldErrors("after"));

        var noSuchReplica = await owner.Client.GetAsync($"/api/v1/jobs/{id}/logs/download?replica=trainer-7");
        var replicaProblem = await noSuchReplica.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(["The job has no replica 'trainer-7'; it has trainer-0."], replicaProblem.FieldErrors("replica"));
    }

    [Fact]
    public async Task AMasterOfTheAccount_ReadsAMembersLogs()
    {
        var master = await factory.CreateUserAsync();
        var member = await factory.CreateUserAsync();
        await factory.JoinAsync(master, master.AccountId, member, "member");
        var response = await member.Client.PostAsJsonAsync("/api/v1/jobs", new { accountId = master.AccountId, name = "logs", command = new[] { "sh", "-c", "true" } });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await factory.WithDbAsync(db => db.JobReplicas.Where(r => r.JobId == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.BackendState, "{}")));
        await ShipAsync(id, "member's line\n");

        Assert.Equal("member's line\n", TextOf(await GetAsync(master, $"/api/v1/jobs/{id}/logs")));
    }
}
