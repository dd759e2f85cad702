using System.Text;
using Platform.Core.Catalog;
using Platform.Core.Deployments;
using Platform.Core.Deployments.Backends;
using Platform.Core.Deployments.Backends.Docker;

namespace Platform.Core.Tests.Deployments;

/// <summary>The docker backend's pure parts; the backend itself is tested against Podman in Workers.Tests.</summary>
public sealed class DockerBackendUnitTests
{
    [Theory]
    [InlineData("localhost/platform-jupyter:latest", "v2", "localhost/platform-jupyter:v2")]
    [InlineData("registry.example.org:5000/team/nb", "v2", "registry.example.org:5000/team/nb:v2")]
    [InlineData("registry.example.org:5000/team/nb:1.0", "v2", "registry.example.org:5000/team/nb:v2")]
    [InlineData("nb@sha256:abc", "v2", "nb@sha256:abc")]
    [InlineData("localhost/platform-jupyter:latest", null, "localhost/platform-jupyter:latest")]
    public void ImageOf_PutsTheChosenTagInPlaceOfTheManifests(string image, string? tag, string expected) =>
        Assert.Equal(expected, WorkloadSpecs.ImageOf(new ModuleImages(image, null, []), 0, tag));

    [Fact]
    public void ImageOf_TakesTheGpuImageWhenGpusAreAskedFor_AndTheCpuOneWhenThereIsNone()
    {
        Assert.Equal("nb-gpu:latest", WorkloadSpecs.ImageOf(new ModuleImages("nb:latest", "nb-gpu:latest", []), 1, null));
        Assert.Equal("nb:latest", WorkloadSpecs.ImageOf(new ModuleImages("nb:latest", null, []), 1, null));
        Assert.Equal("nb:latest", WorkloadSpecs.ImageOf(new ModuleImages("nb:latest", "nb-gpu:latest", []), 0, null));
    }

    [Fact]
    public void Demultiplex_JoinsTheFramesOfStdoutAndStderrInOrder()
    {
        static byte[] Frame(byte stream, string text)
        {
            var payload = Encoding.UTF8.GetBytes(text);
            return [stream, 0, 0, 0, 0, 0, (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];
        }

        byte[] bytes = [.. Frame(1, "out\n"), .. Frame(2, "err ünïcode\n"), .. Frame(1, "last")];

        Assert.Equal("out\nerr ünïcode\nlast", DockerEngineClient.Demultiplex(bytes));
        Assert.Equal("plain text", DockerEngineClient.Demultiplex(Encoding.UTF8.GetBytes("plain text")));
    }

    [Fact]
    public async Task LastLines_KeepsTheTailOfAFramedStream_SplitAcrossFramesAndReads()
    {
        static byte[] Frame(byte stream, string text)
        {
            var payload = Encoding.UTF8.GetBytes(text);
            return [stream, 0, 0, 0, 0, 0, (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];
        }

        var many = string.Concat(Enumerable.Range(1, 300).Select(i => $"line {i}\n"));
        byte[] framed = [.. Frame(1, many[..1000]), .. Frame(2, many[1000..] + "ünï"), .. Frame(1, "code\nlast")];
        // A stream that hands out 7 bytes a read, so headers and lines are split across reads.
        using var trickle = new Trickle(framed, 7);

        Assert.Equal("line 299\nline 300\nünïcode\nlast", await DockerEngineClient.LastLinesAsync(trickle, 4, tty: false, default));
        Assert.Equal("b\nc", await DockerEngineClient.LastLinesAsync(new MemoryStream(Encoding.UTF8.GetBytes("a\nb\nc\n")), 2, tty: true, default));
        Assert.Equal("plain\ntext", await DockerEngineClient.LastLinesAsync(new MemoryStream(Encoding.UTF8.GetBytes("just\nplain\ntext")), 2, tty: false, default));
        Assert.Equal("", await DockerEngineClient.LastLinesAsync(new MemoryStream(), 5, tty: false, default));
    }

    private sealed class Trickle(byte[] bytes, int step) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, step));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, step)], cancellationToken);
    }

    [Fact]
    public void DefaultSocket_IsTheUnixDockerHost_ElseAnEngineSocketPath()
    {
        Assert.Equal("/run/user/0/podman/podman.sock", DockerBackendOptions.DefaultSocket("unix:///run/user/0/podman/podman.sock"));
        Assert.Contains(DockerBackendOptions.DefaultSocket("tcp://10.0.0.1:2375"), new[] { DockerBackendOptions.PodmanSocket, DockerBackendOptions.DockerSocket });
    }

    [Fact]
    public void ComputeBackends_DriveARowWithTheBackendItNames_AndRefuseAnUnknownDefault()
    {
        var process = new ProcessBackend(new ProcessBackendOptions(Path.GetTempPath()));
        using var docker = new DockerBackend(new DockerBackendOptions("/nonexistent.sock"));
        var backends = new ComputeBackends([process, docker], "docker");

        Assert.Same(docker, backends.Default);
        Assert.Same(process, backends.For(new Deployment { Backend = "process" }));
        Assert.Same(docker, backends.For(new Deployment { Backend = "" }));
        Assert.Null(backends.For(new Deployment { Backend = "slurm" }));
        Assert.Contains("use one of: docker, process", Assert.Throws<InvalidOperationException>(() => new ComputeBackends([process, docker], "slurm")).Message);
    }
}
