using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Platform.Web.Pages;

/// <summary>
/// Rendered for unhandled exceptions (outside Development) and for bare error statuses (404, 403, 400). It names the
/// status and a trace id to quote, never the exception: details stay in the log under that id.
/// </summary>
[IgnoreAntiforgeryToken]
[ResponseCache(Duration = 0, Location = ResponseCacheLocation.None, NoStore = true)]
public sealed class ErrorModel : PageModel
{
    public int Code { get; private set; }
    public string Heading { get; private set; } = "";
    public string Explanation { get; private set; } = "";
    public string TraceId { get; private set; } = "";

    public void OnGet(int? code) => Describe(code);

    // Status pages re-execute with the original method, so a failed form post arrives here as a POST.
    public void OnPost(int? code) => Describe(code);

    private void Describe(int? code)
    {
        var failed = HttpContext.Features.Get<IExceptionHandlerPathFeature>() is not null;
        Code = failed ? 500 : code ?? (Response.StatusCode >= 400 ? Response.StatusCode : 500);
        TraceId = Activity.Current?.Id ?? HttpContext.TraceIdentifier;
        (Heading, Explanation) = Code switch
        {
            400 => ("The request could not be accepted",
                "If you sent a form, it may have expired or come from another site: go back, reload the page and try again."),
            403 => ("You do not have access to this page",
                "Your user or your role in this account does not allow it. Ask an account master or a platform admin if you need it."),
            404 => ("Nothing here",
                "There is nothing at this address, or it belongs to an account you are not a member of."),
            405 => ("Not possible this way", "This address does not accept that kind of request."),
            _ when Code >= 500 => ("Something went wrong on our side",
                "The error has been logged. Try again in a moment; if it keeps happening, give the trace id below to an admin."),
            _ => ("Something went wrong", "The request could not be completed."),
        };
    }
}
