using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Persistence;

namespace Platform.Core.Admin;

public enum RegistrationMode
{
    Open,
    InviteOnly,
}

public sealed class PlatformOptions
{
    public const string Section = "Platform";

    /// <summary>The address people open (Web, the front door); used in e-mailed links and the SDK config file.</summary>
    public string PublicUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>The registration mode until an admin changes it on the admin page.</summary>
    public RegistrationMode Registration { get; set; } = RegistrationMode.Open;
}

public sealed class SettingsService(PlatformDbContext db, IOptions<PlatformOptions> options, TimeProvider clock)
{
    private const string RegistrationKey = "registration.mode";

    private const string AnonymousCatalogKey = "catalog.anonymous";

    private const string CatalogGenerationKey = "catalog.generation";

    public async Task<RegistrationMode> GetRegistrationModeAsync(CancellationToken ct = default) =>
        Enum.TryParse<RegistrationMode>(await GetAsync(RegistrationKey, ct), out var mode) ? mode : options.Value.Registration;

    public Task SetRegistrationModeAsync(RegistrationMode mode, CancellationToken ct = default) =>
        SetAsync(RegistrationKey, mode.ToString(), ct);

    /// <summary>Whether the public catalog may be listed without signing in (off unless an admin turns it on).</summary>
    public async Task<bool> GetAnonymousCatalogAsync(CancellationToken ct = default) =>
        bool.TryParse(await GetAsync(AnonymousCatalogKey, ct), out var allowed) && allowed;

    public Task SetAnonymousCatalogAsync(bool allowed, CancellationToken ct = default) =>
        SetAsync(AnonymousCatalogKey, allowed.ToString(), ct);

    /// <summary>Changes on every module catalog reload, so each process's catalog knows to reload too.</summary>
    public Task<string?> GetCatalogGenerationAsync(CancellationToken ct = default) => GetAsync(CatalogGenerationKey, ct);

    public Task SetCatalogGenerationAsync(string generation, CancellationToken ct = default) =>
        SetAsync(CatalogGenerationKey, generation, ct);

    private Task<string?> GetAsync(string key, CancellationToken ct) =>
        db.Settings.AsNoTracking().Where(s => s.Key == key).Select(s => s.Value).FirstOrDefaultAsync(ct);

    private async Task SetAsync(string key, string value, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO "Settings" ("Key", "Value", "UpdatedAt") VALUES ({key}, {value}, {now})
            ON CONFLICT ("Key") DO UPDATE SET "Value" = EXCLUDED."Value", "UpdatedAt" = EXCLUDED."UpdatedAt"
            """, ct);
    }
}
