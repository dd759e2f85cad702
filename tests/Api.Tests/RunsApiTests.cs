using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Api.Tests.Infrastructure;
using Platform.Core.Common;
using Platform.Core.Jobs;
using Platform.Core.Metrics;

namespace Platform.Api.Tests;

/// <summary>
/// Training runs over the real API and PostgreSQL: ingestion (idempotent, non-finite values, limits), reads (raw and
/// rollups, checked against the raw points), export, deletion, storage accounting, concurrency and who may see what.
/// </summary>
public sealed class RunsApiTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    internal static async Task<Guid> CreateRunAsync(HttpClient client, string name = "experiment")
    {
        var response = await client.PostAsJsonAsync("/api/v1/runs", new { name });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    internal static async Task<JsonElement> PostPointsAsync(HttpClient client, Guid runId, object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var response = await client.PostAsJsonAsync($"/api/v1/runs/{runId}/points", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement;
    }

    private static object Point(string name, long step, object value, double? at = null) =>
        at is null ? new { name, step, value } : new { name, step, value, at };

    private static double Read(JsonElement e) => e.ValueKind == JsonValueKind.String
        ? PointInputConverter.ParseNamed(e.GetString()) ?? throw new InvalidOperationException(e.GetString())
        : e.GetDouble();

    [Fact]
    public async Task Points_RoundTrip_WithNonFiniteValues_AndARetryInsertsNothingTwice()
    {
        var user = await factory.CreateUserAsync("metrics-roundtrip");
        var runId = await CreateRunAsync(user.Client, "roundtrip");
        var at = 1_763_760_000.125;
        var points = new List<object>();
        for (var step = 0; step < 100; step++)
        {
            points.Add(Point("loss", step, step switch { 5 => "NaN", 6 => "Infinity", 7 => "-Infinity", _ => 1.0 / (step + 1) }, at + step));
            points.Add(Point("accuracy", step, step / 100.0));
        }

        var first = await PostPointsAsync(user.Client, runId, new { points });
        Assert.Equal(200, first.GetProperty("accepted").GetInt32());
        Assert.Equal(0, first.GetProperty("duplicates").GetInt32());
        Assert.Equal(99, first.GetProperty("lastSteps").GetProperty("loss").GetInt64());

        // The same batch again (a retry after a lost answer), plus one new point.
        points.Add(Point("loss", 100, 0.5));
        var retry = await PostPointsAsync(user.Client, runId, new { points, dropped = 7 });
        Assert.Equal(1, retry.GetProperty("accepted").GetInt32());
        Assert.Equal(200, retry.GetProperty("duplicates").GetInt32());

        var run = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal(201, run.GetProperty("pointCount").GetInt64());
        Assert.Equal(201 * RunService.BytesPerPoint, run.GetProperty("bytes").GetInt64());
        Assert.Equal(7, run.GetProperty("dropped").GetInt64());
        Assert.Equal(2, run.GetProperty("seriesCount").GetInt32());
        var loss = run.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "loss");
        Assert.Equal(101, loss.GetProperty("pointCount").GetInt64());
        Assert.Equal(0, loss.GetProperty("firstStep").GetInt64());
        Assert.Equal(100, loss.GetProperty("lastStep").GetInt64());
        Assert.Equal(0.5, loss.GetProperty("lastValue").GetDouble());
        Assert.Equal(201, await factory.WithDbAsync(db => db.MetricPoints.CountAsync(p => db.MetricSeries.Any(s => s.RunId == runId && s.Id == p.SeriesId))));

        var read = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/points?series=loss");
        var series = read.GetProperty("series").EnumerateArray().Single();
        Assert.Equal(0, series.GetProperty("level").GetInt32());
        Assert.Equal(101, series.GetProperty("total").GetInt64());
        var values = series.GetProperty("values").EnumerateArray().ToList();
        Assert.Equal("NaN", values[5].GetString());
        Assert.Equal("Infinity", values[6].GetString());
        Assert.Equal("-Infinity", values[7].GetString());
        Assert.Equal(1.0 / 3, values[2].GetDouble());
        Assert.Equal((long)((at + 2) * 1000), series.GetProperty("times")[2].GetInt64());
        Assert.Equal(Enumerable.Range(0, 101).Select(i => (long)i), series.GetProperty("steps").EnumerateArray().Select(s => s.GetInt64()));
        Assert.False(series.TryGetProperty("min", out _));
    }

    [Fact]
    public async Task BadPoints_AreRefusedWithTheFieldNamed_AndNothingOfTheBatchIsKept()
    {
        var user = await factory.CreateUserAsync("metrics-bad");
        var runId = await CreateRunAsync(user.Client);
        var problem = await (await user.Client.PostAsJsonAsync($"/api/v1/runs/{runId}/points", new
        {
            points = new object[]
            {
                Point("ok", 0, 1.0),
                Point("", 1, 1.0),
                Point("ok", -1, 1.0),
                Point("ok", 3, "abc"),
                new { name = "ok", step = 4, value = true },
                new { name = "ok", step = 5.5, value = 1 },
                new { name = "ok", step = 6, value = 1, at = "yesterday" },
                Point("bad\nname", 7, 1.0),
                Point(new string('x', 201), 8, 1.0),
                new { name = 12, step = 9, value = 1 },
                new { name = "ok", value = 1 },
            },
        })).AssertProblemAsync(HttpStatusCode.BadRequest);
        foreach (var field in new[] { "points[1].name", "points[2].step", "points[3].value", "points[4].value", "points[5].step", "points[6].at",
            "points[7].name", "points[8].name", "points[9].name", "points[10].step" })
        {
            Assert.NotEmpty(problem.FieldErrors(field));
        }

        Assert.False(problem.GetProperty("errors").TryGetProperty("points[0].name", out _));
        var tooMany = Enumerable.Range(0, 10_001).Select(i => Point("a", i, 1)).ToList();
        var big = await (await user.Client.PostAsJsonAsync($"/api/v1/runs/{runId}/points", new { points = tooMany })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("10000", big.FieldErrors("points")[0]);
        Assert.NotEmpty((await (await user.Client.PostAsJsonAsync($"/api/v1/runs/{runId}/points", new { points = Array.Empty<object>(), dropped = -1 }))
            .AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("dropped"));

        var run = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal(0, run.GetProperty("pointCount").GetInt64());
        Assert.Equal(0, run.GetProperty("seriesCount").GetInt32());
    }

    [Fact]
    public async Task RunLimits_RefuseTheWholeBatch()
    {
        await using var limited = factory.WithWebHostBuilder(b => b
            .UseSetting("Platform:Metrics:MaxSeriesPerRun", "3")
            .UseSetting("Platform:Metrics:MaxPointsPerRun", "50"));
        var user = await factory.CreateUserAsync("metrics-limits");
        using var client = limited.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", user.Key);
        var runId = await CreateRunAsync(client);
        await PostPointsAsync(client, runId, new { points = new[] { Point("a", 0, 1), Point("b", 0, 1) } });

        var series = await (await client.PostAsJsonAsync($"/api/v1/runs/{runId}/points",
            new { points = new[] { Point("a", 1, 1), Point("c", 0, 1), Point("d", 0, 1) } })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("3 series", series.FieldErrors("points")[0]);

        var many = Enumerable.Range(1, 49).Select(i => Point("a", i, i)).ToList();
        var points = await (await client.PostAsJsonAsync($"/api/v1/runs/{runId}/points", new { points = many })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("50 points", points.FieldErrors("points")[0]);

        // Nothing of either refused batch was kept; a batch within the limits still goes in, duplicates not counted against it.
        var run = await client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal(2, run.GetProperty("pointCount").GetInt64());
        Assert.Equal(2, run.GetProperty("seriesCount").GetInt32());
        Assert.Equal(0, await factory.WithDbAsync(db => db.MetricRollups.CountAsync(r => db.MetricSeries.Any(s => s.RunId == runId && s.Id == r.SeriesId) && r.Bucket != 0)));
        var fits = Enumerable.Range(0, 49).Select(i => Point("a", i, i)).ToList();
        var accepted = await PostPointsAsync(client, runId, new { points = fits });
        Assert.Equal(48, accepted.GetProperty("accepted").GetInt32());
        Assert.Equal(1, accepted.GetProperty("duplicates").GetInt32());
    }

    [Fact]
    public async Task Rollups_MatchTheRawPoints_AndTheReadPicksTheFinestLevelThatFits()
    {
        var user = await factory.CreateUserAsync("metrics-rollups");
        var runId = await CreateRunAsync(user.Client, "rollups");
        var random = new Random(42);
        const int n = 5000;
        var values = Enumerable.Range(0, n).Select(i => i % 97 == 0 ? double.NaN : i % 331 == 0 ? double.PositiveInfinity : random.NextDouble() * 10 - 5).ToArray();
        // Out of order, in overlapping batches: rollups are merged from many partial batches and a retry adds nothing.
        var order = Enumerable.Range(0, n).OrderBy(_ => random.Next()).ToList();
        for (var i = 0; i < n; i += 700)
        {
            var chunk = order.Skip(Math.Max(0, i - 50)).Take(750).Select(s => Point("v", s, Wire(values[s]))).ToList();
            await PostPointsAsync(user.Client, runId, new { points = chunk });
        }

        var rollups = await factory.WithDbAsync(db => db.MetricRollups.AsNoTracking()
            .Where(r => db.MetricSeries.Any(s => s.RunId == runId && s.Id == r.SeriesId)).ToListAsync());
        foreach (var level in MetricIngestion.Levels)
        {
            var expected = Enumerable.Range(0, n).GroupBy(s => (long)s >> level).ToList();
            var actual = rollups.Where(r => r.Level == level).OrderBy(r => r.Bucket).ToList();
            Assert.Equal(expected.Count, actual.Count);
            foreach (var (bucket, row) in expected.Zip(actual))
            {
                var finite = bucket.Select(s => values[s]).Where(double.IsFinite).ToList();
                Assert.Equal(bucket.Key, row.Bucket);
                Assert.Equal(bucket.Count(), row.Count);
                Assert.Equal(bucket.Count() - finite.Count, row.NonFinite);
                Assert.Equal(finite.Min(), row.Min);
                Assert.Equal(finite.Max(), row.Max);
                Assert.Equal(finite.Sum(), row.Sum, 9);
                Assert.Equal(bucket.Max(), row.LastStep);
                Assert.Equal(values[bucket.Max()], row.Last);
            }
        }

        // 5,000 points: raw when 5,000 fit, level 6 (79 buckets) for 100, level 9 (10 buckets) for 50.
        Assert.Equal(0, (await ReadAsync(runId, user, "maxPoints=5000")).GetProperty("level").GetInt32());
        var level6 = await ReadAsync(runId, user, "maxPoints=100");
        Assert.Equal(6, level6.GetProperty("level").GetInt32());
        Assert.Equal(79, level6.GetProperty("steps").GetArrayLength());
        Assert.Equal(n, level6.GetProperty("total").GetInt64());
        var level9 = await ReadAsync(runId, user, "maxPoints=50");
        Assert.Equal(9, level9.GetProperty("level").GetInt32());
        for (var b = 0; b < 10; b++)
        {
            var finite = Enumerable.Range(b * 512, Math.Min(512, n - b * 512)).Select(s => values[s]).Where(double.IsFinite).ToList();
            Assert.Equal(finite.Average(), Read(level9.GetProperty("values")[b]), 9);
            Assert.Equal(finite.Min(), Read(level9.GetProperty("min")[b]));
            Assert.Equal(finite.Max(), Read(level9.GetProperty("max")[b]));
            Assert.Equal(Math.Min(n - 1, b * 512 + 511), level9.GetProperty("steps")[b].GetInt64());
        }

        // A zoomed range that fits is read raw, exactly.
        var zoomed = await ReadAsync(runId, user, "from=1000&to=1199&maxPoints=4000");
        Assert.Equal(0, zoomed.GetProperty("level").GetInt32());
        Assert.Equal(200, zoomed.GetProperty("total").GetInt64());
        Assert.Equal(1000, zoomed.GetProperty("steps")[0].GetInt64());
        Assert.Equal(values[1001], Read(zoomed.GetProperty("values")[1]));
        var zoomedOut = await ReadAsync(runId, user, "from=0&to=4095&maxPoints=100");
        Assert.Equal(6, zoomedOut.GetProperty("level").GetInt32());
        Assert.Equal(64, zoomedOut.GetProperty("steps").GetArrayLength());
        Assert.NotEmpty((await (await user.Client.GetAsync($"/api/v1/runs/{runId}/points?from=10&to=5"))
            .AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("to"));
    }

    [Fact]
    public async Task RollupsMergeBatchesWithOnlyNonFiniteValues_AndOutOfOrderSteps()
    {
        var user = await factory.CreateUserAsync("metrics-nonfinite");
        var runId = await CreateRunAsync(user.Client);
        // One point a batch into the same buckets: NaN first, then +Inf, then finite values, the highest step not last.
        foreach (var (step, value) in new (long, object)[] { (0, "NaN"), (1, "Infinity"), (5, 2.0), (3, -1.0), (4, "-Infinity") })
        {
            await PostPointsAsync(user.Client, runId, new { points = new[] { Point("v", step, value) } });
        }

        var rollups = await factory.WithDbAsync(db => db.MetricRollups.AsNoTracking()
            .Where(r => db.MetricSeries.Any(s => s.RunId == runId && s.Id == r.SeriesId)).OrderBy(r => r.Level).ToListAsync());
        Assert.Equal(MetricIngestion.Levels, rollups.Select(r => r.Level));
        Assert.All(rollups, r =>
        {
            Assert.Equal((0L, 5L, 3L, -1.0, 2.0, 1.0, 5L, 2.0), (r.Bucket, r.Count, r.NonFinite, r.Min, r.Max, r.Sum, r.LastStep, r.Last));
        });

        // Only non-finite so far in a bucket: NaN envelope and mean, counted.
        await PostPointsAsync(user.Client, runId, new { points = new[] { Point("w", 0, "NaN"), Point("w", 1, "-Infinity") } });
        var read = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/points?series=w&series=v&maxPoints=1");
        var w = read.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "w");
        Assert.Equal(6, w.GetProperty("level").GetInt32());
        Assert.Equal("NaN", w.GetProperty("values")[0].GetString());
        Assert.Equal("NaN", w.GetProperty("min")[0].GetString());
        var v = read.GetProperty("series").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "v");
        Assert.Equal(0.5, v.GetProperty("values")[0].GetDouble());
        Assert.Equal(5, v.GetProperty("steps")[0].GetInt64());
        Assert.Equal(5, v.GetProperty("total").GetInt64());
    }

    private static object Wire(double value) => double.IsFinite(value) ? value : PointInputConverter.Format(value);

    private static async Task<JsonElement> ReadAsync(Guid runId, TestUser user, string query) =>
        (await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/points?series=v&{query}")).GetProperty("series")[0];

    [Fact]
    public async Task Export_StreamsCsvAndJson()
    {
        var user = await factory.CreateUserAsync("metrics-export");
        var runId = await CreateRunAsync(user.Client, "export");
        await PostPointsAsync(user.Client, runId, new
        {
            points = new[] { Point("loss", 0, 2.5, 1_763_760_000.5), Point("loss", 1, "NaN", 1_763_760_001), Point("a,b", 0, "-Infinity", 1_763_760_002) },
        });
        var csv = await user.Client.GetAsync($"/api/v1/runs/{runId}/export?format=csv");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).TrimEnd('\n').Split('\n');
        Assert.Equal(["series,step,time", "\"a,b\",0,2025-11-21T21:20:02.000Z", "loss,0,2025-11-21T21:20:00.500Z", "loss,1,2025-11-21T21:20:01.000Z"],
            lines.Select(l => string.Join(',', l.Split(',').SkipLast(1))).ToArray());
        Assert.Equal(["-Infinity", "2.5", "NaN"], lines.Skip(1).Select(l => l.Split(',')[^1]).ToArray());

        var json = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}/export?format=json&series=loss");
        Assert.Equal(runId, json.GetProperty("run").GetProperty("id").GetGuid());
        var loss = json.GetProperty("series").GetProperty("loss");
        Assert.Equal(2, loss.GetArrayLength());
        Assert.Equal(1_763_760_000_500, loss[0][1].GetInt64());
        Assert.Equal(2.5, loss[0][2].GetDouble());
        Assert.Equal("NaN", loss[1][2].GetString());
        Assert.False(json.GetProperty("series").TryGetProperty("a,b", out _));
        Assert.NotEmpty((await (await user.Client.GetAsync($"/api/v1/runs/{runId}/export?format=xml")).AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors("format"));
    }

    private static Task<int> PointRowsAsync(StaticCatalogApiFactory factory, long[] seriesIds) =>
        factory.WithDbAsync(async db => await db.MetricPoints.CountAsync(p => seriesIds.Contains(p.SeriesId))
            + await db.MetricRollups.CountAsync(r => seriesIds.Contains(r.SeriesId)));

    [Fact]
    public async Task DeletingARunOrItsJob_DeletesThePoints_AndStorageCountsThem()
    {
        var user = await factory.CreateUserAsync("metrics-delete");
        var runId = await CreateRunAsync(user.Client, "to delete");
        await PostPointsAsync(user.Client, runId, new { points = Enumerable.Range(0, 300).Select(i => Point("x", i, i)).ToList() });
        var storage = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{user.AccountId}/storage");
        Assert.Equal(300 * RunService.BytesPerPoint, storage.GetProperty("usedBytes").GetInt64());

        var series = await factory.WithDbAsync(db => db.MetricSeries.Where(s => s.RunId == runId).Select(s => s.Id).ToArrayAsync());
        Assert.Equal(300 + 5 + 1 + 1 + 1, await PointRowsAsync(factory, series));
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Equal(0, await PointRowsAsync(factory, series));
        Assert.Equal(HttpStatusCode.NotFound, (await user.Client.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Equal(0, (await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/accounts/{user.AccountId}/storage")).GetProperty("usedBytes").GetInt64());

        // A job's run goes with its job.
        var job = await (await user.Client.PostAsJsonAsync("/api/v1/jobs", new { name = "train-and-go", command = new[] { "true" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        var jobId = job.GetProperty("id").GetGuid();
        var created = await user.Client.PostAsJsonAsync("/api/v1/runs", new { jobId });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var jobRun = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await PostPointsAsync(user.Client, jobRun, new { points = Enumerable.Range(0, 100).Select(i => Point("y", i, i)).ToList() });
        var jobSeries = await factory.WithDbAsync(db => db.MetricSeries.Where(s => s.RunId == jobRun).Select(s => s.Id).ToArrayAsync());
        Assert.Equal(100 + 2 + 1 + 1 + 1, await PointRowsAsync(factory, jobSeries));
        // DELETE /jobs/{id}: refused while the job has not ended (no Workers here: it stays queued), not found for others.
        var refused = await (await user.Client.DeleteAsync($"/api/v1/jobs/{jobId}")).AssertProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("stop it", refused.GetProperty("detail").GetString());
        var stranger = await factory.CreateUserAsync("metrics-delete-stranger");
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.Client.DeleteAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        await factory.WithDbAsync(db => db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(s => s.SetProperty(j => j.Observed, JobObserved.Succeeded)));
        Assert.Equal(HttpStatusCode.NoContent, (await user.Client.DeleteAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await user.Client.GetAsync($"/api/v1/jobs/{jobId}")).StatusCode);
        Assert.Equal(0, await factory.WithDbAsync(db => db.Runs.CountAsync(r => r.Id == jobRun)));
        Assert.Equal(0, await PointRowsAsync(factory, jobSeries));
    }

    [Fact]
    public async Task ConcurrentBatchesToOneRun_KeepExactCounters()
    {
        var user = await factory.CreateUserAsync("metrics-concurrent");
        var runId = await CreateRunAsync(user.Client, "concurrent");
        // 8 writers, 6 batches each, overlapping step ranges: every (series, step) is posted by two writers.
        var tasks = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var b = 0; b < 6; b++)
            {
                var start = ((w % 4) * 6 + b) * 200;
                var points = Enumerable.Range(start, 200).SelectMany(s => new[] { Point("a", s, s), Point("b", s, -s) }).ToList();
                await PostPointsAsync(user.Client, runId, new { points });
            }
        })).ToList();
        await Task.WhenAll(tasks);

        var run = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal(2 * 24 * 200, run.GetProperty("pointCount").GetInt64());
        foreach (var s in run.GetProperty("series").EnumerateArray())
        {
            Assert.Equal(24 * 200, s.GetProperty("pointCount").GetInt64());
            Assert.Equal(0, s.GetProperty("firstStep").GetInt64());
            Assert.Equal(24 * 200 - 1, s.GetProperty("lastStep").GetInt64());
        }

        var sums = await factory.WithDbAsync(db => db.MetricRollups.Where(r => db.MetricSeries.Any(s => s.RunId == runId && s.Id == r.SeriesId))
            .GroupBy(r => r.Level).Select(g => g.Sum(r => r.Count)).ToListAsync());
        Assert.Equal(4, sums.Count);
        Assert.All(sums, c => Assert.Equal(2 * 24 * 200, c));
    }

    [Fact]
    public async Task ObserversHearOnlyTheInsertedPoints_InStepOrder()
    {
        var observer = new RecordingObserver();
        await using var observed = factory.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IMetricBatchObserver>(observer)));
        var user = await factory.CreateUserAsync("metrics-observed");
        using var client = observed.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", user.Key);
        var runId = await CreateRunAsync(client);
        await PostPointsAsync(client, runId, new { points = new[] { Point("a", 2, 2), Point("a", 0, 0) } });
        await PostPointsAsync(client, runId, new { points = new[] { Point("a", 1, 1), Point("a", 2, 2), Point("b", 5, "NaN") } });
        await PostPointsAsync(client, runId, new { points = new[] { Point("a", 1, 1) } });
        var batches = observer.Batches.ToList();
        Assert.Equal(2, batches.Count);
        Assert.All(batches, b => Assert.Equal(runId, b.RunId));
        Assert.Equal([0L, 2L], batches[0].Series.Single().Steps);
        Assert.Equal([1L], batches[1].Series.Single(s => s.Name == "a").Steps);
        Assert.True(double.IsNaN(batches[1].Series.Single(s => s.Name == "b").Values[0]));
    }

    private async Task<string> LaunchAsync(Guid jobId)
    {
        var key = JobKeys.New(jobId);
        await factory.WithDbAsync(db => db.Jobs.Where(j => j.Id == jobId)
            .ExecuteUpdateAsync(s => s.SetProperty(j => j.TokenHash, Secrets.Hash(key)).SetProperty(j => j.Observed, JobObserved.Running)));
        return key;
    }

    private static async Task<Guid> SubmitAsync(TestUser user, string name, Guid accountId)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/jobs", new { name, command = new[] { "true" }, accountId });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    [Fact]
    public async Task OwnerAndJobKeyWrite_MastersRead_EveryoneElseSeesNothing()
    {
        var master = await factory.CreateUserAsync("runs-master");
        var member = await factory.CreateUserAsync("runs-member");
        var stranger = await factory.CreateUserAsync("runs-stranger");
        await factory.JoinAsync(master, master.AccountId, member, "member");
        var jobId = await SubmitAsync(member, "train-resnet", master.AccountId);
        var otherJob = await SubmitAsync(member, "another", master.AccountId);

        var created = await member.Client.PostAsJsonAsync("/api/v1/runs", new { jobId });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var run = await created.Content.ReadFromJsonAsync<JsonElement>();
        var runId = run.GetProperty("id").GetGuid();
        Assert.Equal("train-resnet", run.GetProperty("name").GetString());
        Assert.Equal(master.AccountId, run.GetProperty("accountId").GetGuid());
        Assert.Equal(jobId, run.GetProperty("jobId").GetGuid());
        Assert.Equal("queued", run.GetProperty("jobState").GetString());

        // The job's own key finds the same run (jobId defaults to its job), posts to it, and to nothing else.
        using var replica = factory.ClientWithKey(await LaunchAsync(jobId));
        var again = await replica.PostAsJsonAsync("/api/v1/runs", new { });
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(runId, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());
        await PostPointsAsync(replica, runId, new { points = new[] { Point("loss", 0, 1.0), Point("loss", 1, 0.5) } });
        Assert.Equal(HttpStatusCode.OK, (await replica.PostAsJsonAsync($"/api/v1/runs/{runId}/graphs", new { title = "Loss", series = new[] { "loss" } })).StatusCode);
        using var otherReplica = factory.ClientWithKey(await LaunchAsync(otherJob));
        await (await otherReplica.PostAsJsonAsync($"/api/v1/runs/{runId}/points", new { points = new[] { Point("loss", 2, 1) } })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await otherReplica.PostAsJsonAsync("/api/v1/runs", new { jobId })).AssertProblemAsync(HttpStatusCode.Forbidden);
        var experiment = await CreateRunAsync(member.Client, "member-experiment");
        await (await replica.PostAsJsonAsync($"/api/v1/runs/{experiment}/points", new { points = new[] { Point("x", 0, 1) } })).AssertProblemAsync(HttpStatusCode.Forbidden);

        // A master of the account reads everything and writes nothing but the deletion.
        Assert.Equal(HttpStatusCode.OK, (await master.Client.GetAsync($"/api/v1/runs/{runId}")).StatusCode);
        Assert.Equal(runId, (await master.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/by-job/{jobId}")).GetProperty("id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await master.Client.GetAsync($"/api/v1/runs/{runId}/points")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await master.Client.GetAsync($"/api/v1/runs/{runId}/export")).StatusCode);
        Assert.Contains(runId, (await master.Client.GetFromJsonAsync<JsonElement>("/api/v1/runs?scope=account")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
        Assert.DoesNotContain(runId, (await master.Client.GetFromJsonAsync<JsonElement>("/api/v1/runs")).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()));
        await (await master.Client.PostAsJsonAsync($"/api/v1/runs/{runId}/points", new { points = new[] { Point("loss", 9, 1) } })).AssertProblemAsync(HttpStatusCode.Forbidden);
        await (await master.Client.PostAsync($"/api/v1/runs/{runId}/finish", null)).AssertProblemAsync(HttpStatusCode.Forbidden);

        // Anyone else: not found, on every run route.
        var routes = new (HttpMethod Method, string Url, object? Body)[]
        {
            (HttpMethod.Get, $"/api/v1/runs/{runId}", null),
            (HttpMethod.Get, $"/api/v1/runs/by-job/{jobId}", null),
            (HttpMethod.Post, $"/api/v1/runs/{runId}/points", new { points = new[] { Point("loss", 5, 1) } }),
            (HttpMethod.Post, $"/api/v1/runs/{runId}/graphs", new { title = "mine now", series = new[] { "loss" } }),
            (HttpMethod.Post, $"/api/v1/runs/{runId}/finish", null),
            (HttpMethod.Get, $"/api/v1/runs/{runId}/points?series=loss", null),
            (HttpMethod.Get, $"/api/v1/runs/{runId}/export?format=json", null),
            (HttpMethod.Delete, $"/api/v1/runs/{runId}", null),
            (HttpMethod.Post, "/api/v1/runs", new { jobId }),
        };
        foreach (var (method, url, body) in routes)
        {
            using var request = new HttpRequestMessage(method, url) { Content = body is null ? null : JsonContent.Create(body) };
            var problem = await (await stranger.Client.SendAsync(request)).AssertProblemAsync(HttpStatusCode.NotFound);
            Assert.DoesNotContain("train-resnet", problem.ToString());
        }

        Assert.Empty((await stranger.Client.GetFromJsonAsync<JsonElement>("/api/v1/runs?scope=account")).GetProperty("items").EnumerateArray());
        var finished = await member.Client.PostAsync($"/api/v1/runs/{runId}/finish", null);
        Assert.Equal("finished", (await finished.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("state").GetString());
        var board = await member.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{runId}");
        Assert.Equal(2, board.GetProperty("pointCount").GetInt64());
        Assert.Equal("Loss", board.GetProperty("graphs")[0].GetProperty("title").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await master.Client.DeleteAsync($"/api/v1/runs/{runId}")).StatusCode);
        await (await member.Client.GetAsync($"/api/v1/runs/by-job/{jobId}")).AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TheList_FiltersAndPages_AndAFinishedRunReopensOnNewPoints()
    {
        var user = await factory.CreateUserAsync("runs-list");
        var alpha1 = await CreateRunAsync(user.Client, "alpha-1");
        var alpha2 = await CreateRunAsync(user.Client, "alpha-2");
        var beta = await CreateRunAsync(user.Client, "beta");
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsync($"/api/v1/runs/{alpha1}/finish", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsJsonAsync($"/api/v1/runs/{beta}/graphs", new { title = "A", series = new[] { "a" } })).StatusCode);
        var graphB = await (await user.Client.PostAsJsonAsync($"/api/v1/runs/{beta}/graphs", new { title = "B", series = new[] { "b", "c" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, graphB.GetProperty("position").GetInt32());
        var graphA = await (await user.Client.PostAsJsonAsync($"/api/v1/runs/{beta}/graphs", new { title = "A", series = new[] { "a", "b" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, graphA.GetProperty("position").GetInt32());
        Assert.Equal(["a", "b"], graphA.GetProperty("series").EnumerateArray().Select(e => e.GetString()!).ToArray());

        async Task<(Guid[] Ids, int Total)> ListAsync(string query)
        {
            var page = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs?{query}");
            return (page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetGuid()).ToArray(), page.GetProperty("total").GetInt32());
        }

        // Newest activity first: graphs and finishing count as activity.
        Assert.Equal([beta, alpha1, alpha2], (await ListAsync("")).Ids);
        Assert.Equal([alpha1], (await ListAsync("state=finished")).Ids);
        Assert.Equal([alpha1, alpha2], (await ListAsync("q=ALPHA")).Ids);
        Assert.Empty((await ListAsync("kind=job")).Ids);
        Assert.Equal(3, (await ListAsync("kind=experiment")).Total);
        var page2 = await ListAsync("pageSize=2&page=2");
        Assert.Equal([alpha2], page2.Ids);
        Assert.Equal(3, page2.Total);
        foreach (var (query, field) in new[] { ("scope=everyone", "scope"), ("kind=notebook", "kind"), ("state=done", "state"), ("pageSize=0", "pageSize") })
        {
            Assert.NotEmpty((await (await user.Client.GetAsync($"/api/v1/runs?{query}")).AssertProblemAsync(HttpStatusCode.BadRequest)).FieldErrors(field));
        }

        await (await user.Client.PostAsJsonAsync($"/api/v1/runs/{beta}/graphs", new { title = "", series = Array.Empty<string>() })).AssertProblemAsync(HttpStatusCode.BadRequest);
        await (await user.Client.PostAsJsonAsync("/api/v1/runs", new { name = "bad\u0001name" })).AssertProblemAsync(HttpStatusCode.BadRequest);

        await PostPointsAsync(user.Client, alpha1, new { points = new[] { Point("x", 0, 1) } });
        Assert.Equal("open", (await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{alpha1}")).GetProperty("state").GetString());
        Assert.Equal(alpha1, (await ListAsync("")).Ids[0]);

        // A batch of nothing but a dropped count (the SDK after an outage) counts it and keeps a finished run finished.
        Assert.Equal(HttpStatusCode.OK, (await user.Client.PostAsync($"/api/v1/runs/{alpha2}/finish", null)).StatusCode);
        var onlyDropped = await PostPointsAsync(user.Client, alpha2, new { points = Array.Empty<object>(), dropped = 3 });
        Assert.Equal(0, onlyDropped.GetProperty("accepted").GetInt32());
        var afterOutage = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/runs/{alpha2}");
        Assert.Equal(3, afterOutage.GetProperty("dropped").GetInt64());
        Assert.Equal("finished", afterOutage.GetProperty("state").GetString());
    }

    private sealed class RecordingObserver : IMetricBatchObserver
    {
        public ConcurrentQueue<IngestedBatch> Batches { get; } = new();

        public void OnIngested(IngestedBatch batch) => Batches.Enqueue(batch);
    }
}
