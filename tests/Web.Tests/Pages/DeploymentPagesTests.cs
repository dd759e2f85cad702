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
}
