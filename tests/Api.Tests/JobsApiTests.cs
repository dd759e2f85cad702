using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Api.Tests.Infrastructure;

namespace Platform.Api.Tests;

public sealed class JobsApiTests(StaticCatalogApiFactory factory) : IClassFixture<StaticCatalogApiFactory>
{
    private static async Task<JsonElement> SubmitAsync(TestUser user, object body)
    {
        var response = await user.Client.PostAsJsonAsync("/api/v1/jobs", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, text);
        return JsonDocument.Parse(text).RootElement;
    }

    [Fact]
    public async Task Submit_QueuesTheJob_WithItsReplicas_AndTheSpecAsGiven()
    {
        var user = await factory.CreateUserAsync();
        var job = await SubmitAsync(user, new
        {
            name = " mnist ",
            command = new[] { "python3", "-c", "print(1)" },
            options = new Dictionary<string, string> { ["epochs"] = "3", ["lr"] = "0.1" },
            trainers = new { count = 2, cpus = 0.5, memoryMiB = 256 },
            parameterServers = new { count = 1 },
            priority = 5,
        });
        var id = job.GetProperty("id").GetGuid();
        Assert.Equal("mnist", job.GetProperty("name").GetString());
        Assert.Equal("train", job.GetProperty("type").GetString());
        Assert.Equal("queued", job.GetProperty("state").GetString());
        Assert.Equal("running", job.GetProperty("desired").GetString());
        Assert.Equal("process", job.GetProperty("backend").GetString());
        Assert.Equal(2, job.GetProperty("trainers").GetInt32());
        Assert.Equal(1, job.GetProperty("parameterServers").GetInt32());
        Assert.Equal(2.0, job.GetProperty("cpus").GetDouble());
        Assert.Equal("3", job.GetProperty("options").GetProperty("epochs").GetString());
        Assert.Equal(5, job.GetProperty("priority").GetInt32());

        var got = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}");
        var replicas = got.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("label").GetString()).ToList();
        Assert.Equal(["trainer-0", "trainer-1", "pserver-0"], replicas);
        Assert.All(got.GetProperty("replicas").EnumerateArray(), r => Assert.Equal("pending", r.GetProperty("state").GetString()));
        var events = await user.Client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{id}/events");
        Assert.Contains("2 trainers (0.5 CPU, 256 MiB each), 1 parameter server (1 CPU, 1024 MiB each)", events.GetProperty("items")[0].GetProperty("message").GetString());
    }

    [Fact]
    public async Task Submit_ReportsEveryBadField_BesideItsName()
    {
        var user = await factory.CreateUserAsync();
        var response = await user.Client.PostAsJsonAsync("/api/v1/jobs", new
        {
            name = "",
            type = "infer",
            command = new[] { "pythn3", "train.py" },
            datasets = new[] { "no version", "missing@1" },
            options = new Dictionary<string, string> { ["bad key"] = "1" },
            trainers = new { count = 0, gpus = 1 },
            parameterServers = new { count = 1, memoryMiB = 1 },
            priority = 1000,
            timeLimitMinutes = 0,
        });
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem.FieldErrors("name"));
        Assert.Equal(["The type is 'train' or 'evaluate'."], problem.FieldErrors("type"));
        Assert.Equal(["'pythn3' is not a program on this platform's nodes (not found on PATH). Check the spelling, or run a script of your code by its path (./train.sh)."],
            problem.FieldErrors("command"));
        Assert.Contains("is not a dataset reference", problem.FieldErrors("datasets[0]")[0]);
        Assert.NotEmpty(problem.FieldErrors("datasets[1]"));
        Assert.Contains("is not an option name", problem.FieldErrors("options")[0]);
        Assert.Equal(["From 1 to 64."], problem.FieldErrors("trainers.count"));
        Assert.Equal(["From 64 MiB to 4 TiB each."], problem.FieldErrors("parameterServers.memoryMiB"));
        Assert.NotEmpty(problem.FieldErrors("priority"));
        Assert.NotEmpty(problem.FieldErrors("timeLimitMinutes"));
    }

    [Fact]
    public async Task Submit_RefusesWhatNoNodeCanHold_AndImagesOnTheProcessBackend()
    {
        var user = await factory.CreateUserAsync();
        var problem = await (await user.Client.PostAsJsonAsync("/api/v1/jobs", new
        {
            name = "big", command = new[] { "true" }, trainers = new { count = 1, gpus = 16 },
        })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.StartsWith("No node has 16 GPUs: the most one has is", problem.FieldErrors("trainers.gpus")[0]);

        problem = await (await user.Client.PostAsJsonAsync("/api/v1/jobs", new { name = "img", image = "python:3.12" }))
            .AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.StartsWith("Images need a container backend", problem.FieldErrors("image")[0]);

        problem = await (await user.Client.PostAsJsonAsync("/api/v1/jobs", new { name = "nothing" })).AssertProblemAsync(HttpStatusCode.BadRequest);
        Assert.StartsWith("Give the command to run", problem.FieldErrors("command")[0]);
    }

    [Fact]
    public async Task Stop_Clone_AndOtherUsersSeeNothing()
    {
        var owner = await factory.CreateUserAsync();
        var stranger = await factory.CreateUserAsync();
        var job = await SubmitAsync(owner, new { name = "sleepy", command = new[] { "sleep", "60" }, options = new Dictionary<string, string> { ["a"] = "1" } });
        var id = job.GetProperty("id").GetGuid();

        foreach (var path in new[] { $"/api/v1/jobs/{id}", $"/api/v1/jobs/{id}/events" })
        {
            await (await stranger.Client.GetAsync(path)).AssertProblemAsync(HttpStatusCode.NotFound);
        }

        await (await stranger.Client.PostAsync($"/api/v1/jobs/{id}/stop", null)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await stranger.Client.PostAsJsonAsync($"/api/v1/jobs/{id}/clone", new { })).AssertProblemAsync(HttpStatusCode.NotFound);

        var clone = await (await owner.Client.PostAsJsonAsync($"/api/v1/jobs/{id}/clone", new { name = "sleepy 2", command = new[] { "sleep", "1" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("sleepy 2", clone.GetProperty("name").GetString());
        Assert.Equal(["sleep", "1"], clone.GetProperty("command").EnumerateArray().Select(a => a.GetString()!).ToList());
        Assert.Equal("1", clone.GetProperty("options").GetProperty("a").GetString());
        Assert.Equal(id, clone.GetProperty("cloneOf").GetGuid());

        var resubmitted = await owner.Client.PostAsync($"/api/v1/jobs/{id}/clone", null);
        Assert.Equal(HttpStatusCode.Created, resubmitted.StatusCode);

        var stopped = await (await owner.Client.PostAsync($"/api/v1/jobs/{id}/stop", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("stopped", stopped.GetProperty("desired").GetString());
        Assert.Equal(2, (await factory.WithDbAsync(db => Task.FromResult(db.Jobs.Single(j => j.Id == id).Generation))));
    }
}
