using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Platform.Core;
using Platform.Web.FrontDoor;
using Platform.Web.Identity;
using Platform.Web.Ide;
using Platform.Web.Navigation;

namespace Platform.Web.Extensions;

public static class Extensions
{
    /// <summary>Everything Web registers: Core, Identity, the pages and who may open them.</summary>
    public static IHostApplicationBuilder AddWebServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddPlatformCore(builder.Configuration);
        services.AddPlatformIdentity();
        services.AddHttpContextAccessor();
        services.AddScoped<CurrentUser>();

        services.ConfigureApplicationCookie(o =>
        {
            // A signed-in user refused a page gets a 403 rendered by /Error at the same address, not a redirect:
            // the address stays meaningful and scripts see the real status.
            o.Events.OnRedirectToAccessDenied = context =>
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return Task.CompletedTask;
            };
        });

        services.AddAuthorizationBuilder()
            .AddPolicy(PlatformAdminRequirement.PolicyName, p => p.RequireAuthenticatedUser().AddRequirements(new PlatformAdminRequirement()));
        // Scoped: the handler asks the database on every request, so withdrawing admin takes effect at once.
        services.AddScoped<IAuthorizationHandler, PlatformAdminHandler>();

        services.AddAntiforgery(o =>
        {
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });

        services.Configure<RouteOptions>(o => o.ConstraintMap[PlatformAreaRouteConstraint.Name] = typeof(PlatformAreaRouteConstraint));
        services.AddRazorPages(o =>
        {
            // Signed-in by default; the few pages a stranger needs are listed, so a new page is never public by accident.
            o.Conventions.AuthorizeFolder("/");
            foreach (var page in AnonymousPages)
            {
                o.Conventions.AllowAnonymousToPage(page);
            }

            o.Conventions.AuthorizeFolder("/Admin", PlatformAdminRequirement.PolicyName);
        });

        // The front door: /api, /hubs, /openapi forwarded to Api (docs/front-door.md).
        builder.Services.AddFrontDoor(builder.Configuration);
        // /ide/{id}/…: a running deployment's IDE, for its owner (Web/Ide/IdeProxy.cs).
        builder.Services.AddIdeProxy();

        return builder;
    }

    /// <summary>Pages reachable without signing in.</summary>
    public static readonly IReadOnlyList<string> AnonymousPages =
    [
        "/Account/Login", "/Account/Register", "/Account/ForgotPassword", "/Account/ResetPassword",
        "/Account/AccessDenied", "/Account/Lockout", "/Invitations/Accept", "/Error",
        // Checks the admin's anonymous-catalog setting itself and sends visitors to sign in when it is off.
        "/Datasets/Public",
        // The module catalog describes the platform, nothing of anyone's; deploying from it needs an account.
        "/Catalog/Index", "/Catalog/Details",
    ];

    public static WebApplication UseWebPipeline(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/Error");
            app.UseHsts();
        }

        app.UseStatusCodePagesWithReExecute("/Error", "?code={0}");
        app.UseStaticFiles();
        app.UseRouting();
        app.Use(KeepOwnStatusBodiesOutsidePages);

        // Before the endpoints, so the front door relays websockets (SignalR, later IDE kernels) instead of plain GETs.
        app.UseWebSockets();

        app.UseAuthentication();
        app.UseAuthorization();

        app.MapDefaultEndpoints();
        app.MapRazorPages();

        app.MapFrontDoor();

        return app;
    }

    /// <summary>
    /// Error pages are for people: a status from an endpoint that is not a page (health, and the proxied API) keeps its own body, e.g. a ProblemDetails 404, instead of being replaced by HTML.
    /// Unknown addresses (no endpoint) still get the friendly page.
    /// </summary>
    private static Task KeepOwnStatusBodiesOutsidePages(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is not null && endpoint.Metadata.GetMetadata<PageActionDescriptor>() is null
            && context.Features.Get<IStatusCodePagesFeature>() is { } statusPages)
        {
            statusPages.Enabled = false;
        }

        return next(context);
    }
}
