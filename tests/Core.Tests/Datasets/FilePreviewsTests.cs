using System.Text;
using Platform.Core.Datasets;

namespace Platform.Core.Tests.Datasets;

public sealed class FilePreviewsTests
{
    private static FilePreview Preview(string path, string content) => Preview(path, Encoding.UTF8.GetBytes(content));

    private static FilePreview Preview(string path, byte[] bytes) =>
        FilePreviews.Build(path, bytes.Length, bytes.AsSpan(0, Math.Min(bytes.Length, FilePreviews.BytesToRead(path))));

    [Fact]
    public void Csv_QuotedFields_KeepTheirCommasNewlinesAndQuotes()
    {
        var preview = Preview("t.csv", "name,comment\r\n\"Smith, J\",\"line one\nline two\"\r\nplain,\"say \"\"hi\"\"\"\r\n\r\nlast,\"\"\n");

        Assert.Equal("table", preview.Kind);
        Assert.Equal(["name", "comment"], preview.Columns);
        Assert.Equal(3, preview.Rows!.Count);
        Assert.Equal(["Smith, J", "line one\nline two"], preview.Rows[0]);
        Assert.Equal(["plain", "say \"hi\""], preview.Rows[1]);
        Assert.Equal(["last", ""], preview.Rows[2]);
        Assert.False(preview.Truncated);
    }

    [Fact]
    public void Tsv_SplitsOnTabs_NotCommas()
    {
        var preview = Preview("t.tsv", "a\tb,c\n1\t2,3\n");
        Assert.Equal(["a", "b,c"], preview.Columns);
        Assert.Equal(["1", "2,3"], preview.Rows![0]);
    }

    [Fact]
    public void Csv_ShowsFiftyRows_CutsLongCells_AndSaysItIsTruncated()
    {
        var body = new StringBuilder("x,y\n");
        for (var i = 0; i < 80; i++)
        {
            body.Append(i).Append(',').Append(new string('w', 500)).Append('\n');
        }

        var preview = Preview("big.csv", body.ToString());
        Assert.Equal(FilePreviews.MaxRows, preview.Rows!.Count);
        Assert.Equal("49", preview.Rows[^1][0]);
        Assert.Equal(FilePreviews.MaxCellChars + 1, preview.Rows[0][1].Length);
        Assert.EndsWith("…", preview.Rows[0][1]);
        Assert.True(preview.Truncated);
    }

    [Fact]
    public void Csv_ReadOnlyInPart_LeavesOutTheRecordThatWasCut()
    {
        var bytes = Encoding.UTF8.GetBytes("a,b\n1,\"open\nstill open");
        var preview = FilePreviews.Build("part.csv", 10_000_000, bytes);
        Assert.Equal(["a", "b"], preview.Columns);
        Assert.Empty(preview.Rows!);
        Assert.True(preview.Truncated);
    }

    [Fact]
    public void JsonLines_ColumnsAreTheKeysInFirstSeenOrder_MissingCellsEmpty()
    {
        var preview = Preview("r.jsonl", "{\"id\":1,\"text\":\"hi\"}\n\n{\"id\":2,\"label\":{\"a\":true}}\n{\"text\":\"x\",\"id\":null}\n");
        Assert.Equal("table", preview.Kind);
        Assert.Equal(["id", "text", "label"], preview.Columns);
        Assert.Equal(["1", "hi", ""], preview.Rows![0]);
        Assert.Equal(["2", "", "{\"a\":true}"], preview.Rows[1]);
        Assert.Equal(["null", "x", ""], preview.Rows[2]);
    }

    [Fact]
    public void JsonLines_ThatAreNotJson_AreShownAsText()
    {
        var preview = Preview("r.ndjson", "not json\n");
        Assert.Equal("text", preview.Kind);
        Assert.Equal("not json\n", preview.Text);
    }

    [Theory]
    [InlineData("notes.md")]
    [InlineData("train.py")]
    [InlineData("README")]
    [InlineData("data.unknownext")]
    public void TextFiles_ByExtensionOrContent_AreText(string path)
    {
        var preview = Preview(path, "# Title\nΓειά σου <script>alert(1)</script>\n");
        Assert.Equal("text", preview.Kind);
        Assert.Equal("# Title\nΓειά σου <script>alert(1)</script>\n", preview.Text);
        Assert.False(preview.Truncated);
    }

    [Fact]
    public void Text_IsCutAt64KiB_WithoutSplittingACharacter()
    {
        var bytes = Encoding.UTF8.GetBytes(new string('é', 40_000)); // 80,000 bytes, two a character
        var head = bytes.AsSpan(0, FilePreviews.TextBytes - 1); // ends inside a character
        var preview = FilePreviews.Build("long.txt", bytes.Length, head);
        Assert.Equal("text", preview.Kind);
        Assert.Equal(new string('é', (FilePreviews.TextBytes - 2) / 2), preview.Text);
        Assert.True(preview.Truncated);
    }

    [Fact]
    public void BinaryContent_HasNoPreview()
    {
        Assert.Equal("none", Preview("weights.bin", [0x00, 0x01, 0x02, 0xFF]).Kind);
        Assert.Equal("none", Preview("latin1.dat", [0x63, 0x61, 0x66, 0xE9]).Kind); // not UTF-8
    }

    [Theory]
    [InlineData("icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>")]
    [InlineData("page.html", "<html><script>alert(1)</script></html>")]
    [InlineData("page.HTM", "hello")]
    public void HtmlAndSvg_AreNeverPreviewed(string path, string content)
    {
        var preview = Preview(path, content);
        Assert.Equal("none", preview.Kind);
        Assert.Null(preview.Text);
        Assert.Contains("not previewed", preview.Reason);
    }

    [Theory]
    [InlineData("a.png", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 }, "image/png")]
    [InlineData("a.jpg", new byte[] { 0xFF, 0xD8, 0xFF, 0xE0 }, "image/jpeg")]
    [InlineData("a.GIF", new byte[] { 0x47, 0x49, 0x46, 0x38, 0x39, 0x61 }, "image/gif")]
    [InlineData("a.webp", new byte[] { 0x52, 0x49, 0x46, 0x46, 1, 2, 3, 4, 0x57, 0x45, 0x42, 0x50 }, "image/webp")]
    [InlineData("a.png", new byte[] { 0x3C, 0x73, 0x76, 0x67 }, null)] // "<svg" named .png
    [InlineData("a.svg", new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, null)] // PNG bytes named .svg
    public void Images_NeedAnImageExtension_AndMatchingMagicBytes(string path, byte[] head, string? expected)
    {
        Assert.Equal(expected, FilePreviews.ImageMediaType(path, head));
        var preview = FilePreviews.Build(path, head.Length, head);
        Assert.Equal(expected is null ? "none" : "image", preview.Kind);
        Assert.Equal(expected, preview.MediaType);
    }
}
