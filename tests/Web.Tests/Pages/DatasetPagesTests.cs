using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Datasets;

namespace Platform.Web.Tests.Pages;

public sealed partial class DatasetPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Index_ListsNothing_ThenTheCreatedDataset_WhichOpensItsPage()
    {
        var browser = await app.NewUserAsync();

        var empty = await browser.GetAsync("/Datasets");
        Assert.Equal(HttpStatusCode.OK, empty.Status);
        Assert.Contains("No datasets yet", empty.Text);
        Assert.DoesNotContain("Coming to this platform", empty.Text);
        Assert.Contains("lowercase letters, digits", empty.Text);

        var created = await browser.PostAsync("/Datasets?handler=Create",
            ("Input.Name", "mnist"), ("Input.Description", "Handwritten digits"), ("Input.License", "CC-BY-4.0"), ("Input.Tags", "Images, digits"));
        Assert.Equal(HttpStatusCode.Redirect, created.Status);
        Assert.Matches("^/Datasets/[0-9a-f-]{36}$", created.Location!.OriginalString);

        var details = await browser.GetAsync(created.Location.OriginalString);
        Assert.Contains("mnist", details.Text);
        Assert.Contains("Handwritten digits", details.Text);
        Assert.Contains("CC-BY-4.0", details.Text);
        Assert.Contains(">images<", details.Html);
        Assert.Contains("none published yet", details.Text);

        var list = await browser.GetAsync("/Datasets");
        Assert.Contains($"href=\"{created.Location.OriginalString}\"", list.Html);
        Assert.DoesNotContain("No datasets yet", list.Text);
        Assert.Contains("mnist", (await browser.GetAsync("/Datasets?q=hand")).Text);
        Assert.Contains("No dataset matches", (await browser.GetAsync("/Datasets?q=zzz")).Text);
    }

    [Fact]
    public async Task Details_RemovesADraftFile_AfterConfirmation()
    {
        var browser = await app.NewUserAsync();
        var id = await CreateAsync(browser, "tidy");
        var userId = await UserIdAsync(browser.Email);
        await UploadAsync(userId, id, "keep.txt", "keep");
        await UploadAsync(userId, id, "drop me.txt", "drop");

        var page = await browser.GetAsync($"/Datasets/{id}?v=draft");
        Assert.Contains("data-confirm=\"Remove “drop me.txt” from the draft?", page.Html);

        var removed = await browser.PostAsync($"/Datasets/{id}?handler=DeleteFile", ("path", "drop me.txt"));
        Assert.Equal(HttpStatusCode.Redirect, removed.Status);
        var after = await browser.GetAsync(removed.Location!.OriginalString);
        Assert.Contains("“drop me.txt” was removed from the draft", after.Text);
        Assert.Contains("1 files", after.Text);
        Assert.DoesNotContain("drop me.txt</td>", after.Html);
        Assert.Contains("keep.txt", after.Text);
    }

    [Fact]
    public async Task Create_WithABadName_ShowsTheErrorBesideTheField()
    {
        var browser = await app.NewUserAsync();

        var page = await browser.PostAsync("/Datasets?handler=Create", ("Input.Name", "Bad Name!"), ("Input.Tags", ""));

        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("lowercase letters", page.FieldError("Input.Name"));
        Assert.Equal("Bad Name!", page.InputValue("Input_Name"));
    }

    [Fact]
    public async Task Details_PagesFiles_PublishesVersion1_AndDeletesItAgain()
    {
        var browser = await app.NewUserAsync();
        var id = await CreateAsync(browser, "paged");
        var userId = await UserIdAsync(browser.Email);
        foreach (var path in new[] { "a.txt", "b.txt", "dir/c.txt" })
        {
            await UploadAsync(userId, id, path, $"content of {path}");
        }

        var first = await browser.GetAsync($"/Datasets/{id}?v=draft&limit=2");
        Assert.Contains("3 files", first.Text);
        Assert.Contains("a.txt", first.Text);
        Assert.Contains("b.txt", first.Text);
        Assert.DoesNotContain("dir/c.txt", first.Text);
        Assert.Contains($"href=\"/api/v1/datasets/{id}/versions/draft/files/a.txt\"", first.Html);
        Assert.Contains("Publish version 1", first.Text);
        var next = NextPage().Match(first.Html);
        Assert.True(next.Success, "a Next page link");

        var second = await browser.GetAsync(WebUtility.HtmlDecode(next.Groups[1].Value));
        Assert.Contains("dir/c.txt", second.Text);
        Assert.DoesNotContain(">a.txt<", second.Html);
        Assert.Contains("First page", second.Text);
        Assert.DoesNotContain("Next page", second.Text);
        Assert.Contains($"/versions/draft/files/dir/c.txt\"", second.Html);

        var filtered = await browser.GetAsync($"/Datasets/{id}?v=draft&prefix=dir/");
        Assert.Contains("dir/c.txt", filtered.Text);
        Assert.DoesNotContain(">a.txt<", filtered.Html);

        var published = await browser.PostAsync($"/Datasets/{id}?handler=Publish", []);
        Assert.Equal(HttpStatusCode.Redirect, published.Status);
        var after = await browser.GetAsync(published.Location!.OriginalString);
        Assert.Contains("Published version 1", after.Text);
        Assert.Contains("v1", after.Fragment("class=\"nav nav-pills mb-2 version-selector\"", "</ul>"));
        Assert.Contains($"href=\"/Datasets/{id}?v=1\"", after.Html);
        Assert.Contains($"/versions/1/files/a.txt\"", after.Html);
        Assert.Contains("Delete version 1", after.Text);

        // A deleted version leaves the selector, and its address says so rather than failing.
        var deleteVersion = await browser.PostAsync($"/Datasets/{id}?handler=DeleteVersion", ("version", "1"));
        Assert.Equal(HttpStatusCode.Redirect, deleteVersion.Status);
        var gone = await browser.GetAsync($"/Datasets/{id}?v=1");
        Assert.Contains("Version 1 was deleted", gone.Text);
        Assert.Contains("Version '1' was not found", gone.Text);
        Assert.DoesNotContain($"href=\"/Datasets/{id}?v=1\"", gone.Html);
    }

    [Fact]
    public async Task Delete_AsksFirstNamingTheDataset_ThenDeletes()
    {
        var browser = await app.NewUserAsync();
        var id = await CreateAsync(browser, "doomed");

        var page = await browser.GetAsync($"/Datasets/{id}");
        Assert.Matches("<form[^>]*data-confirm=\"Delete the dataset “doomed”[^\"]*\"", page.Html);
        Assert.Contains("id=\"confirm-modal\"", page.Html);

        var deleted = await browser.PostAsync($"/Datasets/{id}?handler=Delete", []);
        Assert.Equal(HttpStatusCode.Redirect, deleted.Status);
        Assert.Equal("/Datasets", deleted.Location!.OriginalString);
        Assert.Contains("“doomed” was deleted", (await browser.GetAsync("/Datasets")).Text);
        Assert.Equal(HttpStatusCode.NotFound, (await browser.GetAsync($"/Datasets/{id}")).Status);
    }

    [Fact]
    public async Task Shares_AreAddedAndRevoked_AReadOnlySharee_GetsNoUploadPanel_AndStrangersA404()
    {
        var owner = await app.NewUserAsync();
        var reader = await app.NewUserAsync();
        var stranger = await app.NewUserAsync();
        var id = await CreateAsync(owner, "shared");

        var own = await owner.GetAsync($"/Datasets/{id}");
        Assert.Contains("id=\"upload-dropzone\"", own.Html);
        Assert.Matches("<input type=\"file\" webkitdirectory[^>]*id=\"upload-folder\"", own.Html);
        Assert.Contains("id=\"upload-overall-bar\"", own.Html);
        Assert.Contains($"data-upload-url=\"/api/v1/datasets/{id}/draft/files/\"", own.Html);
        Assert.Contains("/js/datasets-upload.js", own.Html);

        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Datasets/{id}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.PostAsync($"/Datasets/{id}?handler=Delete", [], formPage: "/Datasets")).Status);

        var bad = await owner.PostAsync($"/Datasets/{id}?handler=Share", ("Share.Grantee", ""), ("Share.Access", "read"));
        Assert.Equal(HttpStatusCode.OK, bad.Status);
        Assert.Contains("e-mail", bad.FieldError("Share.Grantee"));

        var shared = await owner.PostAsync($"/Datasets/{id}?handler=Share", ("Share.Grantee", reader.Email), ("Share.Access", "read"));
        Assert.Equal(HttpStatusCode.Redirect, shared.Status);
        var withShare = await owner.GetAsync($"/Datasets/{id}");
        Assert.Contains("Shared with", withShare.Text);
        Assert.Single(ShareRow().Matches(withShare.Html));

        var readerView = await reader.GetAsync($"/Datasets/{id}");
        Assert.Equal(HttpStatusCode.OK, readerView.Status);
        Assert.Contains("shared", readerView.Text);
        Assert.DoesNotContain("upload-dropzone", readerView.Html);
        Assert.DoesNotContain("webkitdirectory", readerView.Html);
        Assert.DoesNotContain("Delete dataset", readerView.Text);
        Assert.DoesNotContain("handler=Share", readerView.Html);
        Assert.Contains("shared", (await reader.GetAsync("/Datasets")).Text);

        // A forged form from the read-only sharee: the service's refusal comes back as an alert.
        var forged = await reader.PostAsync($"/Datasets/{id}?handler=Publish", []);
        Assert.Equal(HttpStatusCode.Redirect, forged.Status);
        Assert.Contains("read access", (await reader.GetAsync($"/Datasets/{id}")).Text);

        Guid shareId;
        await using (var db = app.Db())
        {
            shareId = await db.ArtifactShares.Where(s => s.ArtifactId == id).Select(s => s.Id).SingleAsync();
        }

        Assert.Contains($"data-confirm=\"Stop sharing “shared” with", withShare.Html);
        var revoked = await owner.PostAsync($"/Datasets/{id}?handler=Revoke", ("shareId", shareId.ToString()));
        Assert.Equal(HttpStatusCode.Redirect, revoked.Status);
        Assert.Contains("Not shared", (await owner.GetAsync($"/Datasets/{id}")).Text);
        Assert.Equal(HttpStatusCode.NotFound, (await reader.GetAsync($"/Datasets/{id}")).Status);
    }

    private static async Task<Guid> CreateAsync(Browser browser, string name)
    {
        var created = await browser.PostAsync("/Datasets?handler=Create", ("Input.Name", name), ("Input.Tags", ""));
        Assert.Equal(HttpStatusCode.Redirect, created.Status);
        return Guid.Parse(created.Location!.OriginalString["/Datasets/".Length..]);
    }

    private async Task<Guid> UserIdAsync(string email)
    {
        await using var db = app.Db();
        return await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
    }

    private async Task UploadAsync(Guid userId, Guid datasetId, string path, string content)
    {
        using var scope = app.Factory.Services.CreateScope();
        var bytes = Encoding.UTF8.GetBytes(content);
        var result = await scope.ServiceProvider.GetRequiredService<DatasetService>()
            .UploadAsync(userId, datasetId, path, new MemoryStream(bytes), bytes.Length);
        Assert.True(result.IsSuccess, result.Error?.Message);
    }

    [GeneratedRegex("<a class=\"btn btn-sm btn-outline-secondary next-page\" href=\"([^\"]+)\"")]
    private static partial Regex NextPage();

    [GeneratedRegex("<tr class=\"share\">")]
    private static partial Regex ShareRow();
}
