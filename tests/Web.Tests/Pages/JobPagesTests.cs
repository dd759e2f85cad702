using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Jobs;

namespace Platform.Web.Tests.Pages;

public sealed class JobPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    private static KeyValuePair<string, string>[] Form(params (string Name, string Value)[] changes)
    {
        var fields = new Dictionary<string, string>
        {
            ["Input.Name"] = "mnist baseline", ["Input.Type"] = "train", ["Input.Runs"] = "command",
            ["Input.Command"] = "python3 -c 'print(\"hello world\")'", ["Input.Datasets"] = "", ["Input.Code"] = "", ["Input.OutputModel"] = "",
            ["Input.Options"] = "epochs=3\nlr=0.1", ["Input.TrainersCount"] = "2", ["Input.TrainersCpus"] = "0.5", ["Input.TrainersGpus"] = "0",
            ["Input.TrainersMemoryMiB"] = "256", ["Input.ServersCount"] = "1", ["Input.ServersCpus"] = "0.5", ["Input.ServersGpus"] = "0",
            ["Input.ServersMemoryMiB"] = "256", ["Input.Priority"] = "3", ["Input.TimeLimitMinutes"] = "60",
        };
        foreach (var (name, value) in changes)
        {
            fields[name] = value;
        }

        return [.. fields.Select(f => KeyValuePair.Create(f.Key, f.Value))];
    }

    [Fact]
    public async Task NewForm_PutsErrorsBesideFields_KeepsEveryValue_ShowsTheSpec_AndSubmits()
    {
        var browser = await app.NewUserAsync();
        var form = await browser.GetAsync("/Jobs/New");
        Assert.Equal(HttpStatusCode.OK, form.Status);
        Assert.Contains("If you submitted now", form.Text);

        var refused = await browser.PostAsync("/Jobs/New",
            Form(("Input.Command", "python3 train.py --name 'unclosed"), ("Input.Options", "epochs=3\nnot an option")), "/Jobs/New");
        Assert.Equal(HttpStatusCode.OK, refused.Status);
        Assert.Equal("A single quote at character 25 is never closed.", refused.FieldError("Input.Command"));
        Assert.Equal("Line 2 ('not an option') is not key=value.", refused.FieldError("Input.Options"));
        Assert.Equal("python3 train.py --name 'unclosed", refused.InputValue("Input_Command"));
        Assert.Equal("mnist baseline", refused.InputValue("Input_Name"));
        Assert.Equal("0.5", refused.InputValue("Input_TrainersCpus"));
        Assert.Contains("epochs=3\nnot an option", WebUtility.HtmlDecode(refused.Html));

        var core = await browser.PostAsync("/Jobs/New",
            Form(("Input.Name", ""), ("Input.TrainersCount", "0"), ("Input.ServersMemoryMiB", "abc"), ("Input.Datasets", "nope@1"), ("Input.Priority", "1000")), "/Jobs/New");
        Assert.Equal(HttpStatusCode.OK, core.Status);
        Assert.NotEmpty(core.FieldError("Input.Name"));
        Assert.Equal("From 1 to 64.", core.FieldError("Input.TrainersCount"));
        Assert.Equal("From 64 MiB to 4 TiB each.", core.FieldError("Input.ServersMemoryMiB"));
        Assert.Equal("abc", core.InputValue("Input_ServersMemoryMiB"));
        Assert.Contains("nope", core.FieldError("Input.Datasets"));
        Assert.NotEmpty(core.FieldError("Input.Priority"));

        var spec = await browser.PostAsync("/Jobs/New?handler=Spec", Form(), "/Jobs/New");
        Assert.Contains("The spec that would be submitted", spec.Text);
        var block = spec.Fragment("job-spec\"><code>", "</code>");
        var json = block[block.IndexOf('{', StringComparison.Ordinal)..];
        var command = JsonDocument.Parse(json).RootElement.GetProperty("command").EnumerateArray().Select(a => a.GetString()).ToList();
        Assert.Equal(["python3", "-c", "print(\"hello world\")"], command);

        var request = await browser.PostAsync("/Jobs/New?handler=Request", Form(("Input.Command", "a \"b")), "/Jobs/New");
        var body = JsonDocument.Parse(request.Html).RootElement;
        Assert.Equal(JsonValueKind.Null, body.GetProperty("request").ValueKind);
        Assert.Equal("A double quote at character 3 is never closed.", body.GetProperty("errors").GetProperty("Command").GetString());

        var created = await browser.PostAsync("/Jobs/New", Form(), "/Jobs/New");
        Assert.Equal(HttpStatusCode.Redirect, created.Status);
        Assert.Matches("^/Jobs/[0-9a-f-]{36}$", created.Location!.OriginalString);
        var details = await browser.GetAsync(created.Location.OriginalString);
        Assert.Equal(HttpStatusCode.OK, details.Status);
        Assert.Contains("mnist baseline", details.Text);
        Assert.Contains("queued", details.Fragment("job-state", "</span>"));
        Assert.Contains("python3 -c 'print(\"hello world\")'", details.Text);
        Assert.Contains("epochs=3", details.Fragment("job-command", "Replicas"));
        Assert.Contains("lr=0.1", details.Fragment("job-command", "Replicas"));
        foreach (var label in new[] { "trainer-0", "trainer-1", "pserver-0" })
        {
            Assert.Contains($"data-replica=\"{label}\"", details.Html);
        }

        Assert.Contains("data-confirm=\"Stop", details.Html);
        Assert.Contains("Submitted by", details.Text);
    }

    [Fact]
    public async Task JobPage_IsNotFoundForOthers_ClonesPrefilled_Resubmits_AndStops()
    {
        var owner = await app.NewUserAsync();
        var created = await owner.PostAsync("/Jobs/New", Form(("Input.Name", "to clone")), "/Jobs/New");
        var url = created.Location!.OriginalString;
        var id = url.Split('/')[^1];

        var stranger = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync(url)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Jobs/New?from={id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"{url}?handler=Stop", [], "/Jobs/New")).Status);
        Assert.DoesNotContain("to clone", (await stranger.GetAsync("/Jobs")).Text);

        var clone = await owner.GetAsync($"/Jobs/New?from={id}");
        Assert.Equal("to clone", clone.InputValue("Input_Name"));
        Assert.Equal("python3 -c 'print(\"hello world\")'", clone.InputValue("Input_Command"));
        Assert.Equal("2", clone.InputValue("Input_TrainersCount"));
        Assert.Equal("0.5", clone.InputValue("Input_ServersCpus"));
        Assert.Equal("60", clone.InputValue("Input_TimeLimitMinutes"));

        var resubmitted = await owner.PostAsync($"{url}?handler=Resubmit", [], url);
        Assert.Equal(HttpStatusCode.Redirect, resubmitted.Status);
        Assert.NotEqual(url, resubmitted.Location!.OriginalString);
        var copy = await owner.GetAsync(resubmitted.Location.OriginalString);
        Assert.Contains("Cloned from", copy.Text);
        Assert.Contains(id, copy.Html);

        var stopped = await owner.PostAsync($"{url}?handler=Stop", [], url);
        Assert.Equal(HttpStatusCode.Redirect, stopped.Status);
        var after = await owner.GetAsync(url);
        Assert.Contains("stop requested", after.Text);
        Assert.DoesNotContain("data-confirm=\"Stop", after.Html);
        Assert.DoesNotContain("data-confirm=\"Delete", after.Html);

        // Once it has ended it may be deleted (confirmed first); others cannot, and it is gone from the list.
        await using (var db = app.Db())
        {
            await db.Jobs.Where(j => j.Id == Guid.Parse(id)).ExecuteUpdateAsync(s => s.SetProperty(j => j.Observed, JobObserved.Stopped));
        }

        Assert.Contains("data-confirm=\"Delete", (await owner.GetAsync(url)).Html);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"{url}?handler=Delete", [], "/Jobs/New")).Status);
        var deleted = await owner.PostAsync($"{url}?handler=Delete", [], url);
        Assert.Equal(HttpStatusCode.Redirect, deleted.Status);
        Assert.Equal("/Jobs", deleted.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync(url)).Status);
    }

    [Fact]
    public async Task Dashboard_ShowsQueueReasons_InTheActiveGrid_FiltersTheTable_AndSaysWhatIsWrongWithAFilter()
    {
        var browser = await app.NewUserAsync();
        foreach (var name in new[] { "alpha-run", "beta-run", "gamma-eval" })
        {
            Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync("/Jobs/New", Form(("Input.Name", name)), "/Jobs/New")).Status);
        }

        await using (var db = app.Db())
        {
            var job = await db.Jobs.SingleAsync(j => j.Name == "alpha-run" && j.OwnerUserId == db.Users.Single(u => u.Email == browser.Email).Id);
            job.QueueReason = "waiting for 1 GPU";
            job.QueuePosition = 2;
            job.EstimatedStartAt = DateTimeOffset.UtcNow.AddMinutes(4).AddSeconds(30);
            var done = await db.Jobs.SingleAsync(j => j.Name == "gamma-eval" && j.OwnerUserId == job.OwnerUserId);
            done.Observed = Platform.Core.Jobs.JobObserved.Running;
            done.StartedAt = DateTimeOffset.UtcNow.AddMinutes(-3);
            done.Progress = 0.42;
            done.ProgressMessage = "epoch 2 of 5";
            await db.SaveChangesAsync();
        }

        var page = await browser.GetAsync("/Jobs");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        var grid = page.Fragment("jobs-active", "<h2 class=\"h5\">History");
        Assert.Contains("queued: waiting for 1 GPU, 2nd in line, about 4 min", grid);
        Assert.Contains("epoch 2 of 5", grid);
        Assert.Contains("42%", grid);
        Assert.Contains("3 jobs", page.Text);

        var filtered = await browser.GetAsync("/Jobs?q=RUN&status=queued");
        var table = filtered.Fragment("<table", "</table>");
        Assert.Contains("alpha-run", table);
        Assert.Contains("beta-run", table);
        Assert.DoesNotContain("gamma-eval", table);

        var byName = await browser.GetAsync("/Jobs?sort=name");
        var names = byName.Fragment("<tbody>", "</tbody>");
        Assert.True(names.IndexOf("alpha-run", StringComparison.Ordinal) < names.IndexOf("gamma-eval", StringComparison.Ordinal));

        var bad = await browser.GetAsync("/Jobs?status=asleep&from=yesterday");
        Assert.Equal(HttpStatusCode.OK, bad.Status);
        Assert.Contains("Not a date and time", bad.FieldError("From"));
        var badStatus = await browser.GetAsync("/Jobs?status=asleep");
        Assert.Contains("'asleep' is not a job state", badStatus.FieldError("Status"));
    }

    [Fact]
    public async Task ProfilePage_TurnsNotificationsByEmailOnAndOff()
    {
        var browser = await app.NewUserAsync();
        var manage = await browser.GetAsync("/Account/Manage");
        Assert.Contains("Also send notifications to", manage.Text);
        Assert.DoesNotContain("checked", manage.InputTag("notify-by-email"));

        var on = await browser.PostAsync("/Account/Manage?handler=Notifications",
            [KeyValuePair.Create("notifyByEmail", "true"), KeyValuePair.Create("notifyByEmail", "false")], "/Account/Manage");
        Assert.Equal(HttpStatusCode.Redirect, on.Status);
        Assert.Contains("checked", (await browser.GetAsync("/Account/Manage")).InputTag("notify-by-email"));
        await using (var db = app.Db())
        {
            Assert.True(await db.Users.Where(u => u.Email == browser.Email).Select(u => u.NotifyByEmail).SingleAsync());
        }

        await browser.PostAsync("/Account/Manage?handler=Notifications", [KeyValuePair.Create("notifyByEmail", "false")], "/Account/Manage");
        await using (var db = app.Db())
        {
            Assert.False(await db.Users.Where(u => u.Email == browser.Email).Select(u => u.NotifyByEmail).SingleAsync());
        }
    }
}
