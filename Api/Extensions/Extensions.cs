using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Platform.Api.AccessKeys;
using Platform.Api.Accounts;
using Platform.Api.Admin;
using Platform.Api.Authentication;
using Platform.Api.Catalog;
using Platform.Api.Datasets;
using Platform.Api.Deployments;
using Platform.Api.Infrastructure;
using Platform.Api.Jobs;
using Platform.Api.Limits;
using Platform.Api.Live;
using Platform.Api.Metrics;
using Platform.Api.Models;
using Platform.Api.Notifications;
using Platform.Api.Usage;
using Platform.Core;

namespace Platform.Api.Extensions;

public static class Extensions
{
    /// <summary>Chooses per request: a bearer header means an access key, otherwise the browser's session cookie.</summary>
    public const string PlatformScheme = "Platform";

    public static void AddApiServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddPlatformCore(builder.Configuration);
        services.AddPlatformIdentity();
        services.AddAuthentication(o =>
            {
                o.DefaultScheme = PlatformScheme;
                o.DefaultAuthenticateScheme = PlatformScheme;
                o.DefaultChallengeScheme = PlatformScheme;
                o.DefaultForbidScheme = PlatformScheme;
            })
            .AddScheme<AuthenticationSchemeOptions, AccessKeyAuthenticationHandler>(AccessKeyAuthenticationHandler.SchemeName, null)
            .AddPolicyScheme(PlatformScheme, "Session cookie or access key", o => o.ForwardDefaultSelector = context =>
                AccessKeyAuthenticationHandler.TryGetBearer(context.Request, out _)
                    ? AccessKeyAuthenticationHandler.SchemeName
                    : IdentityConstants.ApplicationScheme);
        services.ConfigureApplicationCookie(o =>
        {
            // An API answers 401/403 with ProblemDetails; only Web redirects to its sign-in page.
            o.Events.OnRedirectToLogin = context => WriteProblemAsync(context.HttpContext, StatusCodes.Status401Unauthorized,
                "Sign in, or send an access key as 'Authorization: Bearer <key>'.");
            o.Events.OnRedirectToAccessDenied = context => WriteProblemAsync(context.HttpContext, StatusCodes.Status403Forbidden,
                "You are not allowed to do this.");
        });
        services.AddAuthorization();
        services.AddLiveUpdates(builder.Configuration);

        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        // Unreadable JSON throws so the exception handler can say what was wrong, instead of an empty 400.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Http.Json.JsonOptions>(o => o.SerializerOptions.AllowTrailingCommas = true);
        builder.Services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o =>
            o.Limits.MaxRequestBodySize = RequestSizeGuard.DefaultLimit);

        services.AddOpenApi("v1", o => o.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Platform API",
                Version = "v1",
                Description = "Accounts, members, invitations and access keys. Authenticate with 'Authorization: Bearer <access key>' " +
                    "(create one on the Access keys page) or a browser session. Every error body is ProblemDetails (RFC 9457).",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes["accessKey"] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An access key: plat_<prefix>_<secret>.",
            };
            return Task.CompletedTask;
        }));
    }

    public static WebApplication UseApiPipeline(this WebApplication app)
    {
        // Web's front door sets X-Forwarded-For/Proto; they are trusted only from loopback (the default known proxies),
        // which is where the AppHost runs Web. Deployments with Web elsewhere add its address to KnownProxies.
        app.UseForwardedHeaders(new ForwardedHeadersOptions { ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto });
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<RequestSizeGuard>();
        app.UseHubAccessTokens();
        app.UseAuthentication();
        app.UseMiddleware<ReadOnlyKeyGuard>();
        app.UseAuthorization();
        return app;
    }

    public static WebApplication MapApiEndpoints(this WebApplication app)
    {
        app.MapOpenApi().AllowAnonymous();
        app.MapGroup("/api/v1")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem()
            .MapMeApi()
            .MapAccountsApi()
            .MapAccessKeysApi()
            .MapAdminApi()
            .MapCatalogApi()
            .MapDatasetsApi()
            .MapModelsApi()
            .MapDeploymentsApi()
            .MapNotificationsApi()
            .MapJobsApi()
            .MapJobLogsApi()
            .MapJobProgressApi()
            .MapJobQuotasApi()
            .MapJobListApi()
            .MapPreferencesApi()
            .MapLimitsApi()
            .MapUsageApi()
            .MapRunsApi();
        app.MapLiveHubs();
        return app;
    }

    private static Task WriteProblemAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = status == 401 ? "Unauthorized" : "Forbidden", Detail = detail },
        }).AsTask();
    }
}
