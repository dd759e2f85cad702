using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.AccessKeys;

namespace Platform.Api.AccessKeys;

/// <summary>The caller's own access keys; another user's key id answers 404.</summary>
public static class AccessKeysApi
{
    public static RouteGroupBuilder MapAccessKeysApi(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/access-keys").WithTags("Access keys");
        keys.MapGet("/", List).WithSummary("Your keys with prefix, scope, expiry, last use and status (never the secret).");
        keys.MapPost("/", Create).WithSummary("Create a key; the response is the only time the whole key is shown.");
        keys.MapDelete("/{keyId:guid}", Revoke).WithSummary("Revoke a key; requests with it fail from then on.");
        return api;
    }

    public static async Task<Ok<IReadOnlyList<AccessKeyResponse>>> List(ClaimsPrincipal user, AccessKeyService keys, CancellationToken ct) =>
        TypedResults.Ok(await keys.ListAsync(user.UserId(), ct));

    public static async Task<Results<Created<CreatedAccessKeyResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateAccessKeyRequest request, ClaimsPrincipal user, AccessKeyService keys, CancellationToken ct) =>
        ApiResults.Created(await keys.CreateAsync(user.UserId(), request, ct), k => $"/api/v1/access-keys/{k.AccessKey.Id}");

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Revoke(
        Guid keyId, ClaimsPrincipal user, AccessKeyService keys, AccessKeyCache cache, CancellationToken ct)
    {
        var result = await keys.RevokeAsync(user.UserId(), keyId, ct);
        if (result.IsSuccess)
        {
            // This process forgets it before answering (the NOTIFY tells the others, and this one again).
            cache.Evict(keyId);
        }

        return ApiResults.NoContent(result);
    }
}
