using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Jobs;

namespace Platform.Web.Tests.Pages;

/// <summary>The job logs partial, rendered in the full-page log view (/Jobs/{id}/Logs).</summary>
public sealed class JobLogsPageTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task LogsPage_ShowsTheViewerWithEveryReplica_ToTheOwner_AndIsNotFoundForOthers()
    {
        var owner = await app.NewUserAsync();
        await using var db = app.Db();
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Email == owner.Email);
        Guid id;
        using (var scope = app.Factory.Services.CreateScope())
        {
            var submitted = await scope.ServiceProvider.GetRequiredService<JobService>().SubmitAsync(user.Id, new SubmitJobRequest(
                user.CurrentAccountId, "mnist <run>", Command: ["sh", "-c", "true"],
                Trainers: new ReplicaGroupRequest(2, null, null, null), ParameterServers: new ReplicaGroupRequest(1, null, null, null)));
            Assert.True(submitted.IsSuccess, submitted.Error?.Message);
            id = submitted.Value!.Id;
        }

        var page = await owner.GetAsync($"/Jobs/{id}/Logs");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("Logs of mnist <run>", page.Text);
        Assert.Contains($"data-job-id=\"{id}\"", page.Html);
        Assert.Contains("<option value=\"trainer-0\">trainer-0</option>", page.Html);
        Assert.Contains("<option value=\"trainer-1\">trainer-1</option>", page.Html);
        Assert.Contains("<option value=\"pserver-0\">pserver-0</option>", page.Html);
        Assert.Contains($"href=\"/api/v1/jobs/{id}/logs/download?replica=pserver-0\"", page.Html);
        Assert.Contains("/js/job-logs.js", page.Html);
        Assert.DoesNotContain("mnist <run>", page.Html); // encoded, never raw

        var stranger = await app.NewUserAsync();
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Jobs/{id}/Logs")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/Jobs/{Guid.CreateVersion7()}/Logs")).Status);
    }
}
