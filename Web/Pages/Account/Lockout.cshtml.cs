using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Platform.Web.Pages.Account;

public sealed class LockoutModel(TimeProvider clock) : PageModel
{
    public DateTimeOffset? Until { get; private set; }

    public int MinutesLeft { get; private set; }

    /// <param name="until">Unix seconds, from the sign-in page; display only, the lockout itself lives in the database.</param>
    public void OnGet(long? until)
    {
        if (until is { } seconds && seconds > 0)
        {
            Until = DateTimeOffset.FromUnixTimeSeconds(seconds);
            MinutesLeft = Math.Max(1, (int)Math.Ceiling((Until.Value - clock.GetUtcNow()).TotalMinutes));
        }
    }
}
