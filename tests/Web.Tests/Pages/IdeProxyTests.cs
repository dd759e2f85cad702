using System.Net;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Catalog;
using Platform.Core.Deployments;
using Platform.Web.Tests.FrontDoor;

namespace Platform.Web.Tests.Pages;

/// <summary>/ide/{id}/… reaches a running deployment's server for its owner and the users it is shared with, and nobody else.</summary>
public sealed class IdeProxyTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Ide_IsForwardedForItsOwnerWhileRunning_AndIsNotFoundForEveryoneElse()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var owner = await app.NewUserAsync();
        var stranger = await app.NewUserAsync();
        var id = await RunningDeploymentAsync(owner.Email, upstream.Address);

        var page = await owner.GetAsync($"/ide/{id}/api/contents/notes.txt?type=file");

        Assert.Equal(HttpStatusCode.OK, page.Status);
        var echo = JsonDocument.Parse(page.Html).RootElement;
        Assert.Equal($"/ide/{id}/api/contents/notes.txt?type=file", echo.GetProperty("rawTarget").GetString());

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/ide/{id}/api/contents")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/ide/{Guid.NewGuid()}/api")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync("/ide/not-a-guid/api")).Status);
        var visitor = await app.NewBrowser().GetAsync($"/ide/{id}/api");
        Assert.Equal(HttpStatusCode.Redirect, visitor.Status);
        Assert.Contains("/Account/Login", visitor.Location!.OriginalString);

        // Stopped (or on its way to stopping): nothing to reach.
        await using (var db = app.Db())
        {
            await db.Deployments.Where(d => d.Id == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.Desired, DesiredState.Stopped));
        }

        Assert.Equal(HttpStatusCode.NotFound, (await owner.GetAsync($"/ide/{id}/api")).Status);
    }

    [Fact]
    public async Task Ide_IsForwardedForASharee_AndNotFoundForAnUnsharedUser_OrOnceUnshared()
    {
        await using var upstream = await TestUpstream.StartAsync();
        var owner = await app.NewUserAsync();
        var sharee = await app.NewUserAsync();
        var unshared = await app.NewUserAsync();
        var id = await RunningDeploymentAsync(owner.Email, upstream.Address);
        Assert.Equal(HttpStatusCode.NotFound, (await sharee.GetAsync($"/ide/{id}/api/contents")).Status);

        // Shared the way the owner does it: the form on the deployment's page.
        var shared = await owner.PostAsync($"/Deployments/{id}?handler=Share", [KeyValuePair.Create("ShareEmail", sharee.Email)], $"/Deployments/{id}");
        Assert.Equal(HttpStatusCode.Redirect, shared.Status);

        var page = await sharee.GetAsync($"/ide/{id}/api/contents/notes.txt?type=file");
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Equal($"/ide/{id}/api/contents/notes.txt?type=file", JsonDocument.Parse(page.Html).RootElement.GetProperty("rawTarget").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await unshared.GetAsync($"/ide/{id}/api/contents")).Status);

        await using (var db = app.Db())
        {
            await db.DeploymentShares.Where(s => s.DeploymentId == id).ExecuteDeleteAsync();
        }

        Assert.Equal(HttpStatusCode.NotFound, (await sharee.GetAsync($"/ide/{id}/api/contents")).Status);
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/ide/{id}/api/contents")).Status);
    }

    private async Task<Guid> RunningDeploymentAsync(string ownerEmail, Uri address)
    {
        await using var db = app.Db();
        var owner = await db.Users.Where(u => u.Email == ownerEmail).Select(u => new { u.Id, u.CurrentAccountId }).SingleAsync();
        var now = DateTimeOffset.UtcNow;
        var deployment = new Deployment
        {
            Id = Guid.CreateVersion7(),
            AccountId = owner.CurrentAccountId!.Value,
            OwnerUserId = owner.Id,
            Module = "development",
            Title = "notebook",
            Service = ModuleService.Jupyter,
            Cpus = 1,
            MemoryMiB = 1024,
            DiskGiB = 1,
            PasswordProtected = "not read by the proxy",
            Desired = DesiredState.Running,
            Observed = ObservedState.Running,
            Backend = "process",
            Address = address.ToString(),
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Deployments.Add(deployment);
        await db.SaveChangesAsync();
        return deployment.Id;
    }
}
