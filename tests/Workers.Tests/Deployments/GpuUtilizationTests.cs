using Platform.Workers.Deployments;

namespace Platform.Workers.Tests.Deployments;

/// <summary>
/// nvidia-smi's CSV (one line per GPU, no header, no units) as documented for <c>--query-gpu=utilization.gpu</c>.
/// No machine here has a GPU: the command itself is not run by these tests.
/// </summary>
public sealed class GpuUtilizationTests
{
    [Theory]
    [InlineData("0\n", 0.0)]
    [InlineData("0\n37\n3\n", 37.0)]
    [InlineData(" 12 \r\n[N/A]\n", 12.0)]
    public void Parse_TakesTheBusiestGpu(string output, double expected) => Assert.Equal(expected, GpuUtilization.Parse(output));

    [Theory]
    [InlineData("")]
    [InlineData("[N/A]\n")]
    public void Parse_IsNull_WhenNoLineIsANumber(string output) => Assert.Null(GpuUtilization.Parse(output));
}
