using Microsoft.Extensions.Configuration;
using Platform.AppHost.Hosting;
using Platform.AppHost.Services;

namespace Platform.AppHost.Tests;

/// <summary>The config contract each service receives (Aspire's names), checked on a plan over this repository's build.</summary>
public class ServicePlanTests
{
    private static ServicePlan Plan(Dictionary<string, string?> settings)
    {
        var repository = RepositoryLayout.Discover(AppContext.BaseDirectory, AppContext.BaseDirectory);
        var options = AppHostOptions.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), repository);
        return ServicePlan.Prepare(options, new ConsoleOutput(colour: false), new HashSet<int>());
    }

    [Fact]
    public void Web_GetsTheDatabaseStorageAndTheOtherServicesAddresses()
    {
        var plan = Plan(new() { ["AppHost:Port"] = "0" });

        var web = plan.EnvironmentFor(plan.Web, "Host=db", "Folder=/data/objects");

        Assert.Equal("Host=db", web["ConnectionStrings__platformdb"]);
        Assert.Equal("Folder=/data/objects", web["ConnectionStrings__objectstore"]);
        Assert.Equal($"http://127.0.0.1:{plan.Api.Port}", web["services__api__http__0"]);
        Assert.Equal($"http://127.0.0.1:{plan.Workers.Port}", web["services__workers__http__0"]);
        Assert.Equal($"http://127.0.0.1:{plan.Web.Port}", web["ASPNETCORE_URLS"]);
        Assert.Equal($"http://127.0.0.1:{plan.Web.Port}", web["Platform__PublicUrl"]);
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), web["Platform__ParentPid"]);
        Assert.Equal("web", web["OTEL_SERVICE_NAME"]);
        Assert.Equal("process", web["Compute__Backend"]);
        Assert.Null(web["ASPNETCORE_HTTP_PORTS"]);
    }

    [Fact]
    public void Workers_KeepWorkspacesUnderTheDataDirectory_UnlessConfiguredApart()
    {
        var plan = Plan(new() { ["AppHost:Port"] = "0", ["AppHost:DataDir"] = "/srv/platform" });
        Assert.Equal("/srv/platform", plan.EnvironmentFor(plan.Workers, "db", "objects")["Platform__DataDir"]);

        var apart = Plan(new() { ["AppHost:Port"] = "0", ["AppHost:DataDir"] = "/srv/platform", ["Platform:DataDir"] = "/big/disk" });
        Assert.Equal("/big/disk", apart.EnvironmentFor(apart.Workers, "db", "objects")["Platform__DataDir"]);
    }

    [Fact]
    public void ApiAndWorkers_ListenOnLoopbackOnDistinctPorts_EvenWhenWebIsExposed()
    {
        var plan = Plan(new() { ["AppHost:Port"] = "0", ["AppHost:Host"] = "0.0.0.0" });

        var api = plan.EnvironmentFor(plan.Api, "db", "objects");

        Assert.Equal($"http://127.0.0.1:{plan.Api.Port}", api["ASPNETCORE_URLS"]);
        Assert.Equal($"http://0.0.0.0:{plan.Web.Port}", plan.EnvironmentFor(plan.Web, "db", "objects")["ASPNETCORE_URLS"]);
        Assert.Equal($"http://127.0.0.1:{plan.Web.Port}", api["services__web__http__0"]);
        Assert.Equal(3, new[] { plan.Api.Port, plan.Workers.Port, plan.Web.Port }.Distinct().Count());
    }

    [Fact]
    public void PlatformAndMailSettings_ArePassedOn_AndAGivenPublicUrlWins()
    {
        var plan = Plan(new()
        {
            ["AppHost:Port"] = "0",
            ["Platform:PublicUrl"] = "https://ml.example.org/",
            ["Platform:Registration:Open"] = "false",
            ["Mail:Smtp:Host"] = "smtp.example.org",
            ["Compute:Backend"] = "slurm",
            ["Compute:Docker:Socket"] = "/run/engine.sock",
        });

        var workers = plan.EnvironmentFor(plan.Workers, "db", "objects");

        Assert.Equal("https://ml.example.org", workers["Platform__PublicUrl"]);
        Assert.Equal("false", workers["Platform__Registration__Open"]);
        Assert.Equal("smtp.example.org", workers["Mail__Smtp__Host"]);
        Assert.Equal("slurm", workers["Compute__Backend"]);
        Assert.Equal("/run/engine.sock", workers["Compute__Docker__Socket"]);
    }

    [Fact]
    public void Wire_StartsEachServiceFromItsDllInItsProjectFolder()
    {
        var plan = Plan(new() { ["AppHost:Port"] = "0" });

        var web = plan.Wire("db", "objects").Web;

        Assert.EndsWith(Path.Combine("Web", "bin"), Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(web.Spec.Arguments[0]))));
        Assert.EndsWith("Platform.Web.dll", web.Spec.Arguments[0]);
        Assert.Equal(Path.Combine(StartedPlatform.RepositoryRoot, "Web"), web.Spec.WorkingDirectory);
        Assert.Equal(new Uri($"http://127.0.0.1:{plan.Web.Port}/health"), web.HealthUrl);
    }
}
