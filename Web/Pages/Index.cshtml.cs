using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.Extensions.Options;
using Platform.Core.Admin;
using Platform.Web.Identity;

namespace Platform.Web.Pages;

public sealed class IndexModel(CurrentUser currentUser, IOptions<PlatformOptions> options) : PageModel
{
    public UserSnapshot Me { get; private set; } = null!;
    public string PublicUrl => options.Value.PublicUrl.TrimEnd('/');

    public async Task OnGetAsync(CancellationToken ct) => Me = await currentUser.RequireAsync(ct);
}
