using Platform.Web.Markdown;

namespace Platform.Web.Tests.Markdown;

public sealed class SafeMarkdownTests
{
    [Theory]
    [InlineData("https://example.org/a", true)]
    [InlineData("http://example.org", true)]
    [InlineData("mailto:someone@example.org", true)]
    [InlineData("docs/page.md", true)]
    [InlineData("/Catalog", true)]
    [InlineData("#usage", true)]
    [InlineData("?q=x:y", true)]
    [InlineData("javascript:alert(1)", false)]
    [InlineData("JAVASCRIPT:alert(1)", false)]
    [InlineData("java\tscript:alert(1)", false)]
    [InlineData(" javascript:alert(1)", false)]
    [InlineData("data:text/html;base64,PHNjcmlwdD4=", false)]
    [InlineData("vbscript:msgbox", false)]
    [InlineData("file:///etc/passwd", false)]
    public void IsSafe_AllowsOnlyAddressesThatNavigate(string url, bool safe) => Assert.Equal(safe, SafeMarkdown.IsSafe(url));

    [Fact]
    public void ToHtml_EscapesRawHtml_AndEmptiesUnsafeLinks()
    {
        var html = SafeMarkdown.ToHtml("""
            Text <b onclick="x()">bold</b>

            <iframe src="https://evil.example"></iframe>

            [a](javascript:alert(1)) <javascript:alert(2)> ![i](data:image/png;base64,AAAA) [b](https://example.org)

            | col |
            |-----|
            | `cell` |

            ## Heading {onclick="alert(3)"}
            """);

        Assert.DoesNotContain("<b", html);
        Assert.DoesNotContain("<iframe", html);
        Assert.Contains("&lt;iframe", html);
        Assert.DoesNotContain("javascript:", html);
        Assert.DoesNotContain("data:image", html);
        Assert.Contains("<a href=\"https://example.org\">b</a>", html);
        Assert.Contains("<table>", html);
        Assert.DoesNotMatch(@"<[a-z][^>]*\sonclick=", html);
    }
}
