using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Platform.Api.Admin;
using Platform.Core.Catalog;

namespace Platform.Api.Catalog;

/// <summary>
/// The module catalog: listing and details for everyone (visitors too: it says what the platform offers, nothing of
/// anyone's), reload and status for platform admins, and a webhook a git host calls after a push.
/// </summary>
public static class CatalogApi
{
    public const string SignatureHeader = "X-Hub-Signature-256";

    public static RouteGroupBuilder MapCatalogApi(this RouteGroupBuilder api)
    {
        var modules = api.MapGroup("/catalog/modules").WithTags("Catalog").AllowAnonymous();
        modules.MapGet("/", List).WithSummary("Modules you can deploy, with search on name, title, summary and tags, and a tag filter.");
        modules.MapGet("/{name}", Get).WithSummary("One module: its README (Markdown), services, images and resource ranges.");
        api.MapPost("/catalog/webhook", Webhook).WithTags("Catalog").AllowAnonymous()
            .WithSummary($"Reloads the catalog; for git hosts, authenticated by {SignatureHeader}: sha256=<hex HMAC-SHA256 of the body>.");

        var admin = api.MapGroup("/admin/catalog").WithTags("Admin").AddEndpointFilter(AdminApi.RequireAdmin);
        admin.MapGet("/", Status).WithSummary("Where the catalog comes from, when it was loaded, its modules count and errors.");
        admin.MapPost("/reload", Reload).WithSummary("Reads the catalog's source again, in every service; answers the new status.");
        return api;
    }

    public static async Task<Ok<IReadOnlyList<ModuleSummaryResponse>>> List(string? search, string? tag, ModuleCatalog catalog, CancellationToken ct)
    {
        var snapshot = await catalog.GetAsync(ct);
        return TypedResults.Ok<IReadOnlyList<ModuleSummaryResponse>>(
            CatalogSearch.Filter(snapshot.Modules, search, tag).Select(ModuleSummaryResponse.From).ToList());
    }

    public static async Task<Results<Ok<ModuleResponse>, ProblemHttpResult>> Get(string name, ModuleCatalog catalog, CancellationToken ct)
    {
        var module = (await catalog.GetAsync(ct)).Modules.FirstOrDefault(m => m.Name == name);
        return module is null
            ? TypedResults.Problem($"No module named '{name}' in the catalog.", statusCode: StatusCodes.Status404NotFound, title: "Not found")
            : TypedResults.Ok(ModuleResponse.From(module));
    }

    public static async Task<Ok<CatalogStatusResponse>> Status(ModuleCatalog catalog, CancellationToken ct) =>
        TypedResults.Ok(CatalogStatusResponse.From(await catalog.GetAsync(ct), catalog.LastFailure));

    public static async Task<Ok<CatalogStatusResponse>> Reload(ModuleCatalog catalog, CancellationToken ct)
    {
        var result = await catalog.ReloadAsync(ct);
        return TypedResults.Ok(CatalogStatusResponse.From(result.Snapshot, catalog.LastFailure));
    }

    /// <summary>
    /// GitHub's (and Gitea's, GitLab's compatible) push webhook. Off until <c>Platform:Catalog:WebhookSecret</c> is
    /// set; the signature is compared in constant time over the exact bytes received, before anything else is done.
    /// </summary>
    public static async Task<Results<Ok<CatalogStatusResponse>, ProblemHttpResult>> Webhook(
        HttpRequest request, ModuleCatalog catalog, IOptions<CatalogOptions> options, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(options.Value.WebhookSecret))
        {
            return TypedResults.Problem("The catalog webhook is off: an operator turns it on by setting Platform:Catalog:WebhookSecret.",
                statusCode: StatusCodes.Status404NotFound, title: "Not found");
        }

        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, ct);
        if (!SignatureMatches(request.Headers[SignatureHeader].ToString(), options.Value.WebhookSecret, body.ToArray()))
        {
            return TypedResults.Problem($"Send {SignatureHeader}: sha256=<hex HMAC-SHA256 of the body under the webhook secret>.",
                statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized");
        }

        var result = await catalog.ReloadAsync(ct);
        return result.Succeeded
            ? TypedResults.Ok(CatalogStatusResponse.From(result.Snapshot, null))
            : TypedResults.Problem($"The catalog could not be reloaded; the previous one stays. {result.Error}",
                statusCode: StatusCodes.Status502BadGateway, title: "Catalog source unavailable");
    }

    /// <summary>Whether <paramref name="header"/> is <c>sha256=</c> and the hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    public static bool SignatureMatches(string? header, string secret, byte[] body)
    {
        const string prefix = "sha256=";
        if (header is null || !header.StartsWith(prefix, StringComparison.Ordinal) || header.Length != prefix.Length + 64)
        {
            return false;
        }

        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(prefix.Length));
        }
        catch (FormatException)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}

public sealed record ModuleSummaryResponse(string Name, string Title, string Summary, IReadOnlyList<string> Tags, IReadOnlyList<string> Services)
{
    public static ModuleSummaryResponse From(ModuleManifest m) =>
        new(m.Name, m.Title, m.Summary, m.Tags, m.Services.Select(s => s.ToName()).ToList());
}

/// <param name="Readme">The module's README.md as Markdown, unrendered.</param>
public sealed record ModuleResponse(
    string Name, string Title, string Summary, string Readme, IReadOnlyList<string> Tags, IReadOnlyList<string> Services,
    ModuleImages Images, ModuleResources Resources, ModuleCommands Commands)
{
    public static ModuleResponse From(ModuleManifest m) =>
        new(m.Name, m.Title, m.Summary, m.ReadmeMarkdown, m.Tags, m.Services.Select(s => s.ToName()).ToList(), m.Images, m.Resources, m.Commands);
}

/// <param name="Errors">Modules that did not load, one entry per problem; module "(source)" when the source itself failed.</param>
/// <param name="ReloadError">Why the last reload failed while the snapshot above stayed current; null after a good one.</param>
public sealed record CatalogStatusResponse(
    string Source, DateTimeOffset LoadedAt, int Modules, IReadOnlyList<CatalogError> Errors, string? ReloadError, DateTimeOffset? ReloadFailedAt)
{
    public static CatalogStatusResponse From(CatalogSnapshot s, CatalogFailure? failure) =>
        new(s.Source, s.LoadedAt, s.Modules.Count, s.Errors, failure?.Message, failure?.At);
}
