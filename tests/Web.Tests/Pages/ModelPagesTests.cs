using System.Net;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Platform.Core.Models;

namespace Platform.Web.Tests.Pages;

public sealed class ModelPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task Index_RegistersAModel_WithMetadata_AndListsIt()
    {
        var browser = await app.NewUserAsync();

        var empty = await browser.GetAsync("/Models");
        Assert.Equal(HttpStatusCode.OK, empty.Status);
        Assert.Contains("No models yet", empty.Text);
        Assert.DoesNotContain("Coming to this platform", empty.Text);
        Assert.Contains("href=\"/Models\"", empty.Html);

        var created = await browser.PostAsync("/Models?handler=Create",
            ("Input.Name", "digits"), ("Input.Description", "Recognises digits"), ("Input.Framework", "PyTorch"), ("Input.Format", "safetensors"),
            ("Input.Tags", "vision"), ("Input.Metrics", """{"accuracy": 0.93, "dataset": "mnist@2"}"""),
            ("Input.InputSchema", """{"type": "object", "properties": {"image": {"type": "array"}}}"""), ("Input.OutputSchema", ""));
        Assert.Equal(HttpStatusCode.Redirect, created.Status);
        Assert.Matches("^/Models/[0-9a-f-]{36}$", created.Location!.OriginalString);

        var details = await browser.GetAsync(created.Location.OriginalString);
        Assert.Contains("Recognises digits", details.Text);
        Assert.Contains("pytorch", details.Fragment("class=\"card card-body h-100 model-metadata\"", "</dl>"));
        var metrics = details.Fragment("<table class=\"table table-sm mb-0 metrics\">", "</table>");
        Assert.Contains("<td>accuracy</td>", metrics);
        Assert.Contains("0.93", metrics);
        Assert.Contains("mnist@2", metrics);
        Assert.Contains("&quot;image&quot;", details.Html);
        Assert.Contains("No published version yet", details.Text);

        var list = await browser.GetAsync("/Models?framework=pytorch");
        Assert.Contains($"href=\"{created.Location.OriginalString}\"", list.Html);
        Assert.Contains("No model matches", (await browser.GetAsync("/Models?framework=sklearn")).Text);
    }

    [Fact]
    public async Task Create_WithBadMetadata_ShowsEachErrorBesideItsField()
    {
        var browser = await app.NewUserAsync();

        var notJson = await browser.PostAsync("/Models?handler=Create", ("Input.Name", "fine"), ("Input.Metrics", "{accuracy: high"));
        Assert.Equal(HttpStatusCode.OK, notJson.Status);
        Assert.Contains("Not valid JSON", notJson.FieldError("Input.Metrics"));

        var page = await browser.PostAsync("/Models?handler=Create",
            ("Input.Name", "Bad Name"), ("Input.InputSchema", "[1, 2]"), ("Input.Metrics", """{"accuracy": {"top1": 0.9}}"""));
        Assert.Equal(HttpStatusCode.OK, page.Status);
        Assert.Contains("lowercase letters", page.FieldError("Input.Name"));
        Assert.Contains("JSON object", page.FieldError("Input.InputSchema"));
        Assert.Contains("'accuracy'", page.FieldError("Input.Metrics"));
        Assert.Equal("Bad Name", page.InputValue("Input_Name"));
    }

    [Fact]
    public async Task EditMetadata_SavesChanges_ClearsEmptiedBoxes_AndShowsErrorsBesideTheField()
    {
        var browser = await app.NewUserAsync();
        var created = await browser.PostAsync("/Models?handler=Create",
            ("Input.Name", "editable"), ("Input.Framework", "sklearn"), ("Input.Metrics", """{"f1": 0.5}"""), ("Input.InputSchema", """{"type": "object"}"""));
        var id = Guid.Parse(created.Location!.OriginalString["/Models/".Length..]);

        var form = await browser.GetAsync($"/Models/{id}");
        Assert.Equal("sklearn", form.InputValue("Edit_Framework"));
        Assert.Contains("\"f1\": 0.5", form.Fragment("id=\"Edit_Metrics\"", "</textarea>"));

        var bad = await browser.PostAsync($"/Models/{id}?handler=Edit", ("Edit.Framework", "sklearn"), ("Edit.Metrics", """{"f1": [1]}"""),
            ("Edit.InputSchema", "{oops"));
        Assert.Equal(HttpStatusCode.OK, bad.Status);
        Assert.Contains("Not valid JSON", bad.FieldError("Edit.InputSchema"));
        Assert.Contains("<details class=\"card card-body mb-4 edit-metadata\" open", bad.Html);

        var invalid = await browser.PostAsync($"/Models/{id}?handler=Edit", ("Edit.Metrics", """{"f1": [1]}"""));
        Assert.Contains("'f1'", invalid.FieldError("Edit.Metrics"));

        var saved = await browser.PostAsync($"/Models/{id}?handler=Edit",
            ("Edit.Description", "now described"), ("Edit.Framework", "XGBoost"), ("Edit.Metrics", """{"f1": 0.8, "auc": 0.9}"""), ("Edit.InputSchema", ""));
        Assert.Equal(HttpStatusCode.Redirect, saved.Status);
        await using var db = app.Db();
        var row = await db.Artifacts.SingleAsync(a => a.Id == id);
        Assert.Equal(("now described", "xgboost", null), (row.Description, row.Framework, row.InputSchema));
        Assert.Contains("\"auc\": 0.9", row.Metrics);
    }

    [Fact]
    public async Task Details_PublishesVersions_SetsAndMovesAliases_AndRefusesDeletingAnAliasedVersion()
    {
        var browser = await app.NewUserAsync();
        var id = await CreateAsync(browser, "ranker");
        var userId = await UserIdAsync(browser.Email);
        var own = await browser.GetAsync($"/Models/{id}");
        Assert.Contains($"data-upload-url=\"/api/v1/models/{id}/draft/files/\"", own.Html);
        Assert.Contains("id=\"upload-dropzone\"", own.Html);

        await UploadAsync(userId, id, "weights.bin", "one");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync($"/Models/{id}?handler=Publish", [])).Status);
        await UploadAsync(userId, id, "weights.bin", "two");
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync($"/Models/{id}?handler=Publish", [])).Status);

        var bad = await browser.PostAsync($"/Models/{id}?handler=SetAlias", ("Alias.Name", "latest"), ("Alias.Version", "1"));
        Assert.Equal(HttpStatusCode.OK, bad.Status);
        Assert.Contains("implicit", bad.FieldError("Alias.Name"));

        var set = await browser.PostAsync($"/Models/{id}?handler=SetAlias", ("Alias.Name", "production"), ("Alias.Version", "1"));
        Assert.Equal(HttpStatusCode.Redirect, set.Status);
        var page = await browser.GetAsync($"/Models/{id}");
        Assert.Contains("“production” now names version 1", page.Text);
        var versions = page.Fragment("<table class=\"table table-sm align-middle versions\">", "</table>");
        Assert.Matches("v1</a></td>\\s*<td>\\s*<span class=\"badge text-bg-info alias\">production</span>", versions);
        Assert.Contains($"href=\"/Models/{id}?v=production\"", page.Html);
        var production = await browser.GetAsync($"/Models/{id}?v=production");
        Assert.Contains($"/api/v1/models/{id}/versions/production/files/weights.bin\"", production.Html);

        var refused = await browser.PostAsync($"/Models/{id}?handler=DeleteVersion", ("version", "1"));
        Assert.Equal(HttpStatusCode.Redirect, refused.Status);
        Assert.Contains("Version 1 is 'production'; move or remove the alias first.", (await browser.GetAsync($"/Models/{id}")).Text);

        await browser.PostAsync($"/Models/{id}?handler=SetAlias", ("Alias.Name", "production"), ("Alias.Version", "2"));
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync($"/Models/{id}?handler=DeleteVersion", ("version", "1"))).Status);
        var after = await browser.GetAsync($"/Models/{id}");
        Assert.Contains("Version 1 was deleted", after.Text);
        Assert.Contains("data-confirm=\"Remove the alias “production” from version 2? Anything asking for ranker@production", after.Html);

        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync($"/Models/{id}?handler=RemoveAlias", ("alias", "production"))).Status);
        Assert.DoesNotContain("badge text-bg-info alias", (await browser.GetAsync($"/Models/{id}")).Html);
    }

    [Fact]
    public async Task ReadOnlySharee_SeesTheModel_WithoutWriteControls_AndStrangersA404()
    {
        var owner = await app.NewUserAsync();
        var reader = await app.NewUserAsync();
        var stranger = await app.NewUserAsync();
        var id = await CreateAsync(owner, "shared-model");
        await UploadAsync(await UserIdAsync(owner.Email), id, "m.onnx", "bytes");
        await owner.PostAsync($"/Models/{id}?handler=Publish", []);

        var own = await owner.GetAsync($"/Models/{id}");
        Assert.Matches("<form[^>]*data-confirm=\"Delete the model “shared-model”[^\"]*\"", own.Html);
        Assert.Contains("Not shared", own.Text);
        Assert.Equal(HttpStatusCode.NotFound, (await stranger.GetAsync($"/Models/{id}")).Status);

        var shared = await owner.PostAsync($"/Models/{id}?handler=Share", ("Share.Grantee", reader.Email), ("Share.Access", "read"));
        Assert.Equal(HttpStatusCode.Redirect, shared.Status);
        Assert.Contains($"data-confirm=\"Stop sharing “shared-model” with", (await owner.GetAsync($"/Models/{id}")).Html);

        var view = await reader.GetAsync($"/Models/{id}");
        Assert.Equal(HttpStatusCode.OK, view.Status);
        Assert.Contains($"/api/v1/models/{id}/versions/latest/files/m.onnx\"", view.Html);
        Assert.DoesNotContain("upload-dropzone", view.Html);
        Assert.DoesNotContain("handler=SetAlias", view.Html);
        Assert.DoesNotContain("handler=Edit", view.Html);
        Assert.DoesNotContain("Delete model", view.Text);
        Assert.Contains("shared-model", (await reader.GetAsync("/Models")).Text);

        var forged = await reader.PostAsync($"/Models/{id}?handler=SetAlias", ("Alias.Name", "production"), ("Alias.Version", "1"));
        Assert.Equal(HttpStatusCode.Redirect, forged.Status);
        Assert.Contains("read access", (await reader.GetAsync($"/Models/{id}")).Text);

        var deleted = await owner.PostAsync($"/Models/{id}?handler=Delete", []);
        Assert.Equal("/Models", deleted.Location!.OriginalString);
        Assert.Contains("“shared-model” was deleted", (await owner.GetAsync("/Models")).Text);
    }

    private static async Task<Guid> CreateAsync(Browser browser, string name)
    {
        var created = await browser.PostAsync("/Models?handler=Create", ("Input.Name", name), ("Input.Framework", "onnx"));
        Assert.Equal(HttpStatusCode.Redirect, created.Status);
        return Guid.Parse(created.Location!.OriginalString["/Models/".Length..]);
    }

    private async Task<Guid> UserIdAsync(string email)
    {
        await using var db = app.Db();
        return await db.Users.Where(u => u.Email == email).Select(u => u.Id).SingleAsync();
    }

    private async Task UploadAsync(Guid userId, Guid modelId, string path, string content)
    {
        using var scope = app.Factory.Services.CreateScope();
        var bytes = Encoding.UTF8.GetBytes(content);
        var result = await scope.ServiceProvider.GetRequiredService<ModelService>()
            .UploadAsync(userId, modelId, path, new MemoryStream(bytes), bytes.Length);
        Assert.True(result.IsSuccess, result.Error?.Message);
    }
}
