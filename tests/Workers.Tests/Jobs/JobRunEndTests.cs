using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Core.Jobs;
using Platform.Core.Metrics;

namespace Platform.Workers.Tests.Jobs;

/// <summary>
/// A job's run ends with its job: when the reconciler moves a job to Succeeded, Failed or Stopped, the job's open run
/// becomes Finished in the same transaction and <c>NOTIFY runs</c> tells open boards. Real python3 replicas.
/// </summary>
[Trait("Category", "Slow")]
public sealed class JobRunEndTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"platform-jobruns-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public async Task ARunEndsWithItsJob_Succeeded_Failed_OrStopped_AndOpenBoardsAreTold()
    {
        var database = await JobHost.NewDatabaseAsync("jobruns");
        await using var host = new JobHost(database, _root);
        _ = host.Server;
        var userId = await host.CreateUserAsync("runa");
        // The quick jobs end only once the test says go: after their runs exist and the test listens.
        Directory.CreateDirectory(_root);
        var go = Path.Combine(_root, "go");
        var wait = $"import os, sys, time\nwhile not os.path.exists({System.Text.Json.JsonSerializer.Serialize(go)}): time.sleep(0.05)\n";
        var ok = await host.SubmitAsync(userId, Python("ok", wait + "print('done', flush=True)"));
        var bad = await host.SubmitAsync(userId, Python("bad", wait + "print('diverged', flush=True); sys.exit(3)"));
        var longRunning = await host.SubmitAsync(userId, Python("long", "import time; time.sleep(600)"));
        var finishedBySdk = await host.SubmitAsync(userId, Python("sdk-finished", wait + "print('done', flush=True)"));

        // The runs the jobs' SDK would have made on their first metric; one was already finished by the SDK, and an
        // experiment outside jobs stays open whatever the jobs do.
        var earlier = DateTimeOffset.UtcNow.AddMinutes(-5);
        earlier = earlier.AddTicks(-(earlier.Ticks % 10)); // PostgreSQL keeps microseconds
        var runs = new Dictionary<Guid, Guid>();
        Guid experiment;
        Guid sdkRun;
        await using (var db = await host.DbAsync())
        {
            var accountId = (await host.RowAsync(ok)).Job.AccountId;
            Run NewRun(Guid? jobId, string name, RunState state = RunState.Open) => new()
            {
                Id = Guid.CreateVersion7(), AccountId = accountId, OwnerUserId = userId, JobId = jobId, Name = name, State = state,
                CreatedAt = earlier, UpdatedAt = earlier, FinishedAt = state == RunState.Finished ? earlier : null, PointCount = 3, Bytes = 192,
            };

            foreach (var job in new[] { ok, bad, longRunning })
            {
                var run = NewRun(job, $"run of {job}");
                runs[job] = run.Id;
                db.Runs.Add(run);
            }

            var finished = NewRun(finishedBySdk, "finished by the SDK", RunState.Finished);
            sdkRun = finished.Id;
            db.Runs.Add(finished);
            var notebook = NewRun(null, "notebook experiment");
            experiment = notebook.Id;
            db.Runs.Add(notebook);
            await db.SaveChangesAsync();
        }

        // What a board's relay hears on 'runs', and what the run and its job were when it arrived: both already ended
        // (one transaction), never the run finished with the job still running nor the other way round.
        var heard = new ConcurrentQueue<(Guid RunId, RunState State, JobObserved? Job)>();
        await using var listener = new NpgsqlConnection(database);
        await listener.OpenAsync();
        await using (var listen = new NpgsqlCommand($"LISTEN {RunService.Channel}", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        listener.Notification += (_, e) =>
        {
            using var db = host.DbAsync().GetAwaiter().GetResult();
            var runId = Guid.Parse(e.Payload);
            var run = db.Runs.AsNoTracking().Single(r => r.Id == runId);
            var job = run.JobId is { } jobId ? db.Jobs.AsNoTracking().Single(j => j.Id == jobId).Observed : (JobObserved?)null;
            heard.Enqueue((runId, run.State, job));
        };
        // Listens until every job's run was heard, or until 10 s after the jobs ended.
        var stopAt = DateTime.MaxValue.Ticks;
        var waiting = Task.Run(async () =>
        {
            while (runs.Values.Any(id => !heard.Any(h => h.RunId == id)) && DateTime.UtcNow.Ticks < Interlocked.Read(ref stopAt))
            {
                await listener.WaitAsync(200);
            }
        });

        foreach (var job in new[] { ok, bad, longRunning, finishedBySdk })
        {
            await host.AdmitAsync(job);
        }

        await File.WriteAllTextAsync(go, "go");

        await host.WaitForAsync(longRunning, (j, _) => j.Observed == JobObserved.Running || JobService.IsFinished(j.Observed));
        await using (var db = await host.DbAsync())
        {
            Assert.Equal(RunState.Open, (await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runs[longRunning])).State);
        }

        Assert.True((await host.WithAsync(sp => sp.GetRequiredService<JobService>().StopAsync(userId, longRunning))).IsSuccess);
        var ended = new Dictionary<Guid, Job>();
        foreach (var job in new[] { ok, bad, longRunning, finishedBySdk })
        {
            ended[job] = (await host.WaitForAsync(job, (j, _) => JobService.IsFinished(j.Observed))).Job;
        }

        Assert.Equal(
            [JobObserved.Succeeded, JobObserved.Failed, JobObserved.Stopped, JobObserved.Succeeded],
            new[] { ok, bad, longRunning, finishedBySdk }.Select(j => ended[j].Observed));
        Interlocked.Exchange(ref stopAt, DateTime.UtcNow.AddSeconds(10).Ticks);
        await waiting;

        await using (var db = await host.DbAsync())
        {
            foreach (var job in new[] { ok, bad, longRunning })
            {
                var run = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == runs[job]);
                Assert.Equal(RunState.Finished, run.State);
                Assert.NotNull(run.FinishedAt);
                // The move's own clock reading: the job's FinishedAt is taken a moment before, in the same step.
                Assert.InRange(run.FinishedAt!.Value, ended[job].FinishedAt!.Value, ended[job].FinishedAt!.Value.AddSeconds(5));
                Assert.Equal(run.FinishedAt, run.UpdatedAt);
                Assert.Equal(3, run.PointCount);
            }

            var bySdk = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == sdkRun);
            Assert.Equal((RunState.Finished, earlier, earlier), (bySdk.State, bySdk.FinishedAt!.Value, bySdk.UpdatedAt));
            var notebook = await db.Runs.AsNoTracking().SingleAsync(r => r.Id == experiment);
            Assert.Equal((RunState.Open, (DateTimeOffset?)null), (notebook.State, notebook.FinishedAt));
        }

        // Each job's run was told once, already finished, with its job already ended; nothing about the others.
        var told = heard.ToList();
        Assert.True(runs.Values.All(id => told.Any(h => h.RunId == id)),
            $"runs {string.Join(", ", runs.Values)} but heard {string.Join(", ", told.Select(h => $"{h.RunId} {h.State} {h.Job}"))}");
        Assert.All(told, h => Assert.Contains(h.RunId, runs.Values));
        foreach (var job in new[] { ok, bad, longRunning })
        {
            var about = Assert.Single(told, h => h.RunId == runs[job]);
            Assert.Equal(RunState.Finished, about.State);
            Assert.Equal(ended[job].Observed, about.Job);
        }
    }

    private static SubmitJobRequest Python(string name, string script) =>
        new(Name: name, Command: ["python3", "-c", script], Trainers: new ReplicaGroupRequest(1, 0.25, 0, 256));
}
