using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Usage;
using Platform.Web.Identity;

namespace Platform.Web.Pages.Usage;

/// <summary>
/// The signed-in user's usage in an account (the current one unless <c>accountId</c> says otherwise): limits against
/// what runs now, CPU- and GPU-hours over the last day, week or month as a chart and tables, and a CSV download.
/// Masters may switch to the whole account (scope=account) and to any account they master.
/// </summary>
public sealed class IndexModel(UsageService usage, CurrentUser currentUser) : PageModel
{
    [BindProperty(SupportsGet = true)]
    public string? Window { get; set; }

    [BindProperty(SupportsGet = true)]
    public string? Scope { get; set; }

    [BindProperty(SupportsGet = true)]
    public Guid? AccountId { get; set; }

    public UsageReportResponse? Report { get; private set; }

    public IReadOnlyList<AccountResponse> Accounts { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync(CancellationToken ct)
    {
        var me = await currentUser.GetAsync(ct);
        Accounts = me?.Accounts ?? [];
        var report = await usage.ReportAsync(currentUser.Id, AccountId, Window, Scope, ct);
        if (report.Error is { Kind: ErrorKind.NotFound })
        {
            return NotFound();
        }

        if (report.Error is { Kind: ErrorKind.Forbidden })
        {
            return StatusCode(StatusCodes.Status403Forbidden);
        }

        if (report.Error is { Fields: { } fields })
        {
            foreach (var (field, messages) in fields)
            {
                foreach (var message in messages)
                {
                    ModelState.AddModelError(char.ToUpperInvariant(field[0]) + field[1..], message);
                }
            }

            return Page();
        }

        Report = report.Value;
        return Page();
    }

    public async Task<IActionResult> OnGetCsvAsync(CancellationToken ct)
    {
        var csv = await usage.ReportCsvAsync(currentUser.Id, AccountId, Window, Scope, ct);
        return csv.Error switch
        {
            null => File(System.Text.Encoding.UTF8.GetBytes(csv.Value!), "text/csv; charset=utf-8", $"usage-{Window ?? "week"}.csv"),
            { Kind: ErrorKind.NotFound } => NotFound(),
            { Kind: ErrorKind.Forbidden } => StatusCode(StatusCodes.Status403Forbidden),
            _ => BadRequest(csv.Error.Message),
        };
    }

    public static string Hours(double value) => value.ToString(value < 10 ? "0.##" : "0.#", System.Globalization.CultureInfo.InvariantCulture);
}
