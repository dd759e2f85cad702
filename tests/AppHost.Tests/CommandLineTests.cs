using Microsoft.Extensions.Configuration;
using Platform.AppHost.Hosting;

namespace Platform.AppHost.Tests;

public class CommandLineTests
{
    [Fact]
    public void Parse_MapsEachOptionOntoItsSetting()
    {
        var parsed = CommandLine.Parse(["--port", "5081", "--host", "0.0.0.0", "--data-dir", "/tmp/d", "--no-restart"]);

        Assert.Null(parsed.Error);
        Assert.False(parsed.ShowHelp);
        Assert.Equal("5081", parsed.Settings["AppHost:Port"]);
        Assert.Equal("0.0.0.0", parsed.Settings["AppHost:Host"]);
        Assert.Equal("/tmp/d", parsed.Settings["AppHost:DataDir"]);
        Assert.Equal("true", parsed.Settings["AppHost:NoRestart"]);
    }

    [Fact]
    public void Parse_AcceptsTheEqualsForm()
    {
        var parsed = CommandLine.Parse(["--port=0", "--data-dir=rel/dir"]);

        Assert.Null(parsed.Error);
        Assert.Equal("0", parsed.Settings["AppHost:Port"]);
        Assert.Equal("rel/dir", parsed.Settings["AppHost:DataDir"]);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Parse_RecognisesHelp(string option) => Assert.True(CommandLine.Parse(["--port", "1", option]).ShowHelp);

    [Fact]
    public void Parse_RejectsAnUnknownOption() =>
        Assert.Equal("Unknown option '--prot'.", CommandLine.Parse(["--prot", "5080"]).Error);

    [Theory]
    [InlineData("--port")]
    [InlineData("--data-dir", "--port", "1")]
    public void Parse_RejectsAnOptionWithoutItsValue(params string[] args) =>
        Assert.Equal($"Option '{args[0]}' needs a value.", CommandLine.Parse(args).Error);

    [Fact]
    public void Load_ResolvesARelativeDataDirectoryAndLeavesAnUnsetPortToTheDefault()
    {
        var options = Load(new() { ["AppHost:DataDir"] = "some/dir" });

        Assert.Equal(Path.GetFullPath("some/dir"), options.DataDirectory);
        Assert.Null(options.Port);
        Assert.Equal(System.Net.IPAddress.Loopback, options.Host);
        Assert.Equal("process", options.ComputeBackend);
    }

    [Fact]
    public void Load_DefaultsTheDataDirectoryToDotDataInTheRepository() =>
        Assert.Equal(Path.Combine("/repo", ".data"), Load([]).DataDirectory);

    [Theory]
    [InlineData("abc")]
    [InlineData("70000")]
    [InlineData("-1")]
    public void Load_RejectsAPortThatIsNotAPortNumber(string port)
    {
        var failure = Assert.Throws<StartupFailure>(() => Load(new() { ["AppHost:Port"] = port }));
        Assert.Contains($"not '{port}'", failure.Message);
    }

    [Fact]
    public void Load_RejectsAHostThatIsNotAnAddress() =>
        Assert.Contains("must be an IP address", Assert.Throws<StartupFailure>(() => Load(new() { ["AppHost:Host"] = "my host" })).Message);

    [Fact]
    public void Load_ReadsExternalConnectionStringsAndTheComputeBackend()
    {
        var options = Load(new()
        {
            ["ConnectionStrings:platformdb"] = "Host=db;Database=p",
            ["ConnectionStrings:objectstore"] = "Endpoint=https://s3;AccessKey=a;SecretKey=b",
            ["Compute:Backend"] = "docker",
            ["AppHost:Host"] = "0.0.0.0",
        });

        Assert.Equal("Host=db;Database=p", options.DatabaseConnectionString);
        Assert.Equal("Endpoint=https://s3;AccessKey=a;SecretKey=b", options.ObjectStoreConnectionString);
        Assert.Equal("docker", options.ComputeBackend);
        Assert.Equal(System.Net.IPAddress.Any, options.Host);
    }

    private static AppHostOptions Load(Dictionary<string, string?> settings) =>
        AppHostOptions.Load(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), new RepositoryLayout("/repo", "Debug", "net10.0"));
}
