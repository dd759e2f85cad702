using System.Net;

namespace Platform.Web.Tests.Pages;

public sealed class DeploymentPagesTests(WebAppFixture app) : IClassFixture<WebAppFixture>
{
    [Fact]
    public async Task NewForm_StartsFromTheModuleDefaults_ShowsTheTemplate_AndPutsErrorsBesideFields()
    {
        var browser = await app.NewUserAsync();

        var form = await browser.GetAsync("/Deployments/New?module=development");
        Assert.Equal(HttpStatusCode.OK, form.Status);
        Assert.Contains("Development environment", form.Text);
        Assert.Contains("value=\"development\"", form.Html);

        var fields = new[]
        {
            ("Input.Module", "development"), ("Input.Service", "jupyter"), ("Input.Title", "My notebook"), ("Input.Cpus", "1"),
            ("Input.Gpus", "0"), ("Input.MemoryMiB", "1024"), ("Input.DiskGiB", "1"), ("Input.Template", "default"),
            ("Input.Password", "short"), ("Input.Datasets", ""),
        };
        var refused = await browser.PostAsync("/Deployments/New", fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)), "/Deployments/New?module=development");
        Assert.Equal(HttpStatusCode.OK, refused.Status);
        Assert.Contains("password", refused.FieldError("Input.Password"));

        var tooBig = await browser.PostAsync("/Deployments/New",
            fields.Select(f => f.Item1 == "Input.Cpus" ? (f.Item1, "abc") : f.Item1 == "Input.Password" ? (f.Item1, "long enough pw") : f)
                .Select(f => KeyValuePair.Create(f.Item1, f.Item2)), "/Deployments/New?module=development");
        Assert.Contains("CPUs", tooBig.FieldError("Input.Cpus"));

        var unknownDataset = await browser.PostAsync("/Deployments/New",
            fields.Select(f => f.Item1 == "Input.Datasets" ? (f.Item1, "nope@1") : f.Item1 == "Input.Password" ? (f.Item1, "long enough pw") : f)
                .Select(f => KeyValuePair.Create(f.Item1, f.Item2)), "/Deployments/New?module=development");
        Assert.Contains("No dataset 'nope' you can read.", unknownDataset.FieldError("Input.Datasets"));

        var template = await browser.PostAsync("/Deployments/New?handler=Template",
            fields.Select(f => f.Item1 == "Input.Password" ? (f.Item1, "long enough pw") : f).Select(f => KeyValuePair.Create(f.Item1, f.Item2)),
            "/Deployments/New?module=development");
        Assert.Contains("The spec that would be submitted", template.Text);
        Assert.Contains("\"baseUrl\"", template.Html.Replace("&quot;", "\""));
        Assert.DoesNotContain("long enough pw", template.Html);

        var created = await browser.PostAsync("/Deployments/New",
            fields.Select(f => f.Item1 == "Input.Password" ? (f.Item1, "long enough pw") : f).Select(f => KeyValuePair.Create(f.Item1, f.Item2)),
            "/Deployments/New?module=development");
        Assert.Equal(HttpStatusCode.Redirect, created.Status);
        Assert.Matches("^/Deployments/[0-9a-f-]{36}$", created.Location!.OriginalString);
        var details = await browser.GetAsync(created.Location.OriginalString);
        Assert.Contains("My notebook", details.Text);
        Assert.Contains("wanted: running", details.Text);
        Assert.Contains("http-equiv=\"refresh\"", details.Html);

        var list = await browser.GetAsync("/Deployments");
        Assert.Contains("My notebook", list.Text);
        Assert.Equal(HttpStatusCode.NotFound, (await (await app.NewUserAsync()).GetAsync(created.Location.OriginalString)).Status);
    }

    [Fact]
    public async Task NewForm_ForYourOwnImage_AsksForTheImage_AndSaysWhyItCannotRunHere()
    {
        var browser = await app.NewUserAsync();
        var form = await browser.GetAsync("/Deployments/New?module=custom-image");
        Assert.Equal(HttpStatusCode.OK, form.Status);
        Assert.Contains("name=\"Input.Image\"", form.Html);
        Assert.DoesNotContain("name=\"Input.ImageTag\"", form.Html);

        var fields = new[]
        {
            ("Input.Module", "custom-image"), ("Input.Service", "api"), ("Input.Title", "My API"), ("Input.Template", "default"),
            ("Input.Image", ""),
        };
        var missing = await browser.PostAsync("/Deployments/New", fields.Select(f => KeyValuePair.Create(f.Item1, f.Item2)), "/Deployments/New?module=custom-image");
        Assert.Contains("Name the image to run", missing.FieldError("Input.Image"));
        var onProcesses = await browser.PostAsync("/Deployments/New",
            fields.Select(f => f.Item1 == "Input.Image" ? (f.Item1, "registry.example.org/team/model:1.2") : f).Select(f => KeyValuePair.Create(f.Item1, f.Item2)),
            "/Deployments/New?module=custom-image");
        Assert.Contains("needs a container backend", onProcesses.FieldError("Input.Image"));
    }

    [Fact]
    public async Task DetailsPage_SharesByEmail_ShowsTheShare_AndTheShareeSeesItWithoutButtonsToChangeIt()
    {
        var owner = await app.NewUserAsync();
        var sharee = await app.NewUserAsync();
        var created = await owner.PostAsync("/Deployments/New", new[]
        {
            ("Input.Module", "development"), ("Input.Service", "jupyter"), ("Input.Title", "Shared notebook"), ("Input.Cpus", "1"),
            ("Input.Gpus", "0"), ("Input.MemoryMiB", "1024"), ("Input.DiskGiB", "1"), ("Input.Template", "default"),
            ("Input.Password", "long enough pw"), ("Input.Datasets", ""),
        }.Select(f => KeyValuePair.Create(f.Item1, f.Item2)), "/Deployments/New?module=development");
        var url = created.Location!.OriginalString;
        var details = await owner.GetAsync(url);
        Assert.Contains("Nobody: only you can open it.", details.Text);

        var unknown = await owner.PostAsync($"{url}?handler=Share", [KeyValuePair.Create("ShareEmail", "nobody@example.test")], url);
        Assert.Equal(HttpStatusCode.OK, unknown.Status);
        Assert.Contains("No user has this e-mail address", unknown.FieldError("ShareEmail"));

        var shared = await owner.PostAsync($"{url}?handler=Share", [KeyValuePair.Create("ShareEmail", sharee.Email)], url);
        Assert.Equal(HttpStatusCode.Redirect, shared.Status);
        var withShare = await owner.GetAsync(url);
        Assert.Contains(sharee.Email, withShare.Fragment("Shared with", "</section>"));
        Assert.Contains("data-confirm=\"Stop sharing", withShare.Html);

        var asSharee = await sharee.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, asSharee.Status);
        Assert.Contains("shared with me", asSharee.Text);
        Assert.DoesNotContain("handler=Stop", asSharee.Html);
        Assert.DoesNotContain("handler=Delete", asSharee.Html);
        Assert.DoesNotContain("handler=Share", asSharee.Html);
        Assert.Contains("Shared notebook", (await sharee.GetAsync("/Deployments?scope=shared")).Text);
        Assert.Equal(HttpStatusCode.Forbidden, (await sharee.PostAsync($"{url}?handler=Stop", [], url)).Status);

        var userId = System.Text.RegularExpressions.Regex.Match(withShare.Html, "name=\"userId\" value=\"([0-9a-f-]{36})\"").Groups[1].Value;
        var unshared = await owner.PostAsync($"{url}?handler=Unshare", [KeyValuePair.Create("userId", userId)], url);
        Assert.Equal(HttpStatusCode.Redirect, unshared.Status);
        Assert.Equal(HttpStatusCode.NotFound, (await sharee.GetAsync(url)).Status);
    }
}
