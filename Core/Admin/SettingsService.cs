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

    public async Task<RegistrationMode> GetRegistrationModeAsync(CancellationToken ct = default)
    {
        var stored = await db.Settings.AsNoTracking().Where(s => s.Key == RegistrationKey).Select(s => s.Value).FirstOrDefaultAsync(ct);
        return Enum.TryParse<RegistrationMode>(stored, out var mode) ? mode : options.Value.Registration;
    }

    public async Task SetRegistrationModeAsync(RegistrationMode mode, CancellationToken ct = default)
    {
        var now = clock.GetUtcNow();
        var value = mode.ToString();
        await db.Database.ExecuteSqlInterpolatedAsync(
            $"""
            INSERT INTO "Settings" ("Key", "Value", "UpdatedAt") VALUES ({RegistrationKey}, {value}, {now})
            ON CONFLICT ("Key") DO UPDATE SET "Value" = EXCLUDED."Value", "UpdatedAt" = EXCLUDED."UpdatedAt"
            """, ct);
    }
}
