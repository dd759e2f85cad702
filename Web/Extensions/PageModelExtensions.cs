using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Common;

namespace Platform.Web.Extensions;

public static class PageModelExtensions
{
    public const string FlashKey = "Flash";
    public const string FlashErrorKey = "FlashError";

    /// <summary>Only addresses on this site, so a crafted link cannot bounce a fresh sign-in to another site.</summary>
    public static string SafeReturnUrl(this PageModel page, string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && page.Url.IsLocalUrl(returnUrl) ? returnUrl : "/";

    /// <summary>A one-line confirmation shown by the layout on the page the user is redirected to.</summary>
    public static void Flash(this PageModel page, string message) => page.TempData[FlashKey] = message;

    public static void FlashError(this PageModel page, string message) => page.TempData[FlashErrorKey] = message;

    /// <summary>
    /// For actions whose failure is not about a form field: a missing or hidden thing is a 404, a refused one a 403
    /// (a forged form from a lower role), anything else (a conflict, say) a message on the page redirected to.
    /// </summary>
    public static IActionResult RedirectOrFail(this PageModel page, Result result, string success, Func<IActionResult> redirect)
    {
        switch (result.Error?.Kind)
        {
            case null:
                page.Flash(success);
                break;
            case ErrorKind.NotFound:
                return page.NotFound();
            case ErrorKind.Forbidden:
                return page.StatusCode(StatusCodes.Status403Forbidden);
            default:
                page.FlashError(result.Error.Message);
                break;
        }

        return redirect();
    }

    /// <summary>
    /// <see cref="RedirectOrFail"/> for small forms whose messages name their field: invalid fields are said in one line
    /// on the page redirected to, like any other refusal.
    /// </summary>
    public static IActionResult RedirectOrFlash(this PageModel page, Result result, string success, Func<IActionResult> redirect)
    {
        if (result.Error is { Kind: ErrorKind.Validation, Fields: { } fields })
        {
            page.FlashError(string.Join(" ", fields.Values.SelectMany(v => v)));
            return redirect();
        }

        return page.RedirectOrFail(result, success, redirect);
    }
}
