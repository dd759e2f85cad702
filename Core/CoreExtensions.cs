using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Core.AccessKeys;
using Platform.Core.Accounts;
using Platform.Core.Admin;
using Platform.Core.Catalog;
using Platform.Core.Jobs;
using Platform.Core.Mail;
using Platform.Core.Metrics;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Core;

public static class CoreExtensions
{
    public const string DatabaseName = "platformdb";
    public const string ObjectStoreName = "objectstore";
    public const string SessionCookieName = ".Platform.Session";

    /// <summary>The DbContext, options and application services shared by Api, Web and Workers.</summary>
    public static IServiceCollection AddPlatformCore(this IServiceCollection services, IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(DatabaseName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new InvalidOperationException(
                $"ConnectionStrings:{DatabaseName} is not set: start the platform with `dotnet run --project AppHost`, " +
                $"or set ConnectionStrings__{DatabaseName} to an Npgsql connection string.");
        }

        // Pooled: a context per request without rebuilding its services each time (it has no per-request state).
        services.AddDbContextPool<PlatformDbContext>(o => DatabaseMigrator.Configure(o, connectionString));
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<PlatformOptions>().Bind(configuration.GetSection(PlatformOptions.Section))
            .Validate(o => Uri.TryCreate(o.PublicUrl, UriKind.Absolute, out _), "Platform:PublicUrl must be an absolute URL")
            .ValidateOnStart();
        services.AddOptions<MailOptions>().Bind(configuration.GetSection(MailOptions.Section));
        services.AddOptions<Limits.LimitsOptions>().Bind(configuration.GetSection(Limits.LimitsOptions.Section));
        services.AddOptions<Deployments.IdleCullingOptions>().Bind(configuration.GetSection(Deployments.IdleCullingOptions.Section));

        services.AddScoped<AccountService>();
        services.AddScoped<InvitationService>();
        services.AddScoped<AccessKeyService>();
        services.AddScoped<Deployments.WorkloadKeys>();
        services.AddScoped<MailService>();
        services.AddScoped<SettingsService>();
        services.AddScoped<AdminService>();
        services.AddScoped<ComponentHealthService>();
        services.AddScoped<Datasets.DatasetService>();
        services.AddScoped<Datasets.OrphanSweeper>();
        services.AddScoped<Models.ModelService>();
        services.AddScoped<Datasets.ExpiredUploads>();
        services.AddScoped<Notifications.NotificationService>();
        services.AddScoped<Limits.LimitService>();
        services.AddScoped<Usage.UsageService>();
        services.AddScoped<Deployments.IdleSettingsService>();
        // IModuleCatalog comes from the catalog area (Core/Catalog); factories, so a host that has none still builds
        // and fails only where deployments are used.
        services.AddSingleton(sp => new Deployments.Backends.WorkloadSpecs(
            sp.GetRequiredService<Catalog.IModuleCatalog>(), sp.GetRequiredService<IDataProtectionProvider>(), configuration));
        services.AddScoped(sp => new Deployments.DeploymentService(
            sp.GetRequiredService<PlatformDbContext>(), sp.GetRequiredService<AccountService>(), sp.GetRequiredService<Catalog.IModuleCatalog>(),
            sp.GetRequiredService<Deployments.Backends.WorkloadSpecs>(), sp.GetRequiredService<Limits.LimitService>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<Deployments.DatasetMounts>()));
        services.AddSingleton(Deployments.DatasetCacheOptions.From(configuration));
        // Jobs: the batch backends every process may ask (Api for capacity and previews, Workers to run replicas); new
        // jobs go to Compute:Backend, like deployments.
        services.AddSingleton(Jobs.Backends.ProcessBatchBackend.OptionsFrom(configuration));
        services.AddSingleton<Jobs.Backends.ProcessBatchBackend>();
        services.AddSingleton<Jobs.Backends.IBatchBackend>(sp => sp.GetRequiredService<Jobs.Backends.ProcessBatchBackend>());
        services.AddJobExecution(configuration);
        services.AddSingleton(sp => new Jobs.Backends.BatchBackends(sp.GetServices<Jobs.Backends.IBatchBackend>(),
            configuration["Compute:Backend"] is { Length: > 0 } backend ? backend : Deployments.Backends.ProcessBackend.BackendName));
        services.AddScoped<Jobs.JobService>();
        services.AddScoped<Jobs.JobLogService>();
        services.AddJobQuotas(configuration);
        services.AddMetrics(configuration);
        services.AddScoped<Deployments.DatasetMounts>();
        services.AddObjectStore(configuration);
        services.AddModuleCatalog(configuration);
        services.AddHttpClient();

        // The key ring itself is created once, with the schema (KeyRing.Ensure, run by the AppHost after migrating).
        services.AddPlatformDataProtection();
        return services;
    }

    /// <summary>The module catalog (one per process, loaded on first use) and the database generation that keeps processes in step.</summary>
    public static IServiceCollection AddModuleCatalog(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CatalogOptions>().Bind(configuration.GetSection(CatalogOptions.Section));
        services.AddSingleton<ICatalogGenerationStore, SettingsCatalogGenerationStore>();
        services.AddSingleton(sp =>
        {
            var environment = sp.GetService<IHostEnvironment>();
            return new ModuleCatalog(sp.GetRequiredService<IOptions<CatalogOptions>>().Value, environment?.ContentRootPath,
                configuration["Platform:DataDir"], sp.GetRequiredService<ICatalogGenerationStore>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<ModuleCatalog>>(), environment?.ApplicationName ?? "platform");
        });
        services.AddSingleton<IModuleCatalog>(sp => sp.GetRequiredService<ModuleCatalog>());
        return services;
    }

    /// <summary>The object store ConnectionStrings:objectstore names: a folder (the default) or S3.</summary>
    public static IServiceCollection AddObjectStore(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = ObjectStoreSettings.Parse(configuration.GetConnectionString(ObjectStoreName));
        services.AddSingleton<IObjectStore>(_ => settings.S3 is { } s3 ? new S3ObjectStore(s3) : new FileSystemObjectStore(settings.Folder!));
        return services;
    }

    /// <summary>One data-protection key ring for every service and replica, kept in PostgreSQL.</summary>
    internal static IServiceCollection AddPlatformDataProtection(this IServiceCollection services)
    {
        services.AddDataProtection().SetApplicationName("Platform");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(sp =>
            new ConfigureOptions<KeyManagementOptions>(o => o.XmlRepository = new DbXmlRepository(sp.GetRequiredService<IServiceScopeFactory>())));
        return services;
    }

    /// <summary>ASP.NET Core Identity with the platform's password, lockout and cookie rules (Web and Api alike).</summary>
    public static IdentityBuilder AddPlatformIdentity(this IServiceCollection services)
    {
        var identity = services.AddIdentity<PlatformUser, IdentityRole<Guid>>(o =>
            {
                o.User.RequireUniqueEmail = true;
                o.Password.RequiredLength = 10;
                o.Password.RequiredUniqueChars = 4;
                o.Password.RequireDigit = true;
                o.Password.RequireLowercase = true;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
            })
            .AddEntityFrameworkStores<PlatformDbContext>()
            .AddDefaultTokenProviders();
        services.AddScoped<RegistrationService>();

        services.Configure<DataProtectionTokenProviderOptions>(o => o.TokenLifespan = TimeSpan.FromHours(2));
        services.ConfigureApplicationCookie(o =>
        {
            o.Cookie.Name = SessionCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromDays(7);
            o.SlidingExpiration = true;
            o.LoginPath = "/Account/Login";
            o.LogoutPath = "/Account/Logout";
            o.AccessDeniedPath = "/Account/AccessDenied";
        });
        // A changed password or a sign-out everywhere invalidates other sessions within a minute.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));
        return identity;
    }
}
