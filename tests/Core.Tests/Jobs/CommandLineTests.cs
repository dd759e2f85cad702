using Platform.Core.Jobs;

namespace Platform.Core.Tests.Jobs;

public sealed class CommandLineTests
{
    [Theory]
    [InlineData("python3 train.py --epochs 3", new[] { "python3", "train.py", "--epochs", "3" })]
    [InlineData("  a\t b \n c  ", new[] { "a", "b", "c" })]
    [InlineData("echo 'two words' \"and $HOME \\\"quoted\\\"\"", new[] { "echo", "two words", "and $HOME \"quoted\"" })]
    [InlineData("a\\ b c'd'\"e\"", new[] { "a b", "cde" })]
    [InlineData("x '' \"\"", new[] { "x", "", "" })]
    [InlineData("'it'\\''s'", new[] { "it's" })]
    public void Split_ReadsWordsAsAShellWould_WithoutExpanding(string text, string[] expected)
    {
        var (arguments, error) = CommandLine.Split(text);
        Assert.Null(error);
        Assert.Equal(expected, arguments);
    }

    [Theory]
    [InlineData("echo 'open", "A single quote at character 6 is never closed.")]
    [InlineData("echo \"open \\\"", "A double quote at character 6 is never closed.")]
    [InlineData("echo \\", "The command ends with a lone backslash.")]
    public void Split_SaysWhereAQuoteIsLeftOpen(string text, string message) =>
        Assert.Equal(message, CommandLine.Split(text).Error);

    [Fact]
    public void Join_WritesALineThatSplitsBackIntoTheSameArguments()
    {
        string[] arguments = ["python3", "-c", "print(\"it's\")", "", "a b", "--lr=0.1"];
        var line = CommandLine.Join(arguments);
        Assert.Equal("python3 -c 'print(\"it'\\''s\")' '' 'a b' --lr=0.1", line);
        Assert.Equal(arguments, CommandLine.Split(line).Arguments);
    }

    [Fact]
    public void Options_AreKeyValueLines_SkippingBlanksAndComments_AndNameTheBadLine()
    {
        var (options, error) = CommandLine.Options("epochs=3\r\n\n# a comment\n url = http://x/?a=b \n");
        Assert.Null(error);
        Assert.Equal(new Dictionary<string, string> { ["epochs"] = "3", ["url"] = "http://x/?a=b" }, options);
        Assert.Equal("Line 2 ('oops') is not key=value.", CommandLine.Options("a=1\noops").Error);
        Assert.Equal("Line 2 ('=1') is not key=value.", CommandLine.Options("a=1\n=1").Error);
        Assert.Equal("Line 2 sets 'a' a second time.", CommandLine.Options("a=1\na=2").Error);
    }
}
