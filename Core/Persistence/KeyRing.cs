using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Core.Persistence;

public static class KeyRing
{
    /// <summary>
    /// Creates the shared data-protection key ring when there is none yet. The AppHost runs this after the migrations
    /// so that services started together all find the same key instead of each creating one of its own.
    /// </summary>
    public static void Ensure(string connectionString)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddDbContext<PlatformDbContext>(o => DatabaseMigrator.Configure(o, connectionString));
        services.AddPlatformDataProtection();
        using var provider = services.BuildServiceProvider();
        provider.GetDataProtector("Platform.Warmup").Protect("warm");
    }
}
