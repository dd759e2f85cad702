using Microsoft.AspNetCore.WebUtilities;

namespace Platform.Web.Extensions;

/// <summary>
/// What the _Pager partial needs: where we are and how to address another page. Links keep the request's other
/// query values (search, the other table's page), so paging one table never resets the rest of the page.
/// The parameter is "p", not "page": Razor Pages keeps the route value "page" for the page's own name.
/// </summary>
public sealed record Pager(int Page, int PageSize, int Total, string Parameter = "p")
{
    public int Pages => Math.Max(1, (int)Math.Ceiling(Total / (double)PageSize));

    public int First => Total == 0 ? 0 : ((Page - 1) * PageSize) + 1;

    public int Last => Math.Min(Total, Page * PageSize);

    public string Href(HttpRequest request, int page)
    {
        var query = request.Query.ToDictionary(q => q.Key, q => q.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        query[Parameter] = page.ToString(System.Globalization.CultureInfo.InvariantCulture);
        query.Remove("handler");
        return QueryHelpers.AddQueryString(request.PathBase + request.Path, query.Select(q => KeyValuePair.Create(q.Key, (string?)q.Value)));
    }

    public static Pager From<T>(Platform.Core.Common.PagedResponse<T> paged, string parameter = "p") =>
        new(paged.Page, paged.PageSize, paged.Total, parameter);
}
