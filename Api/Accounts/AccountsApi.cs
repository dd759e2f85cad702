using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Platform.Api.Authentication;
using Platform.Api.Infrastructure;
using Platform.Core.Accounts;
using Platform.Core.Common;

namespace Platform.Api.Accounts;

/// <summary>Accounts, members and invitations. Account ids the caller is not a member of answer 404.</summary>
public static class AccountsApi
{
    public static RouteGroupBuilder MapAccountsApi(this RouteGroupBuilder api)
    {
        var accounts = api.MapGroup("/accounts").WithTags("Accounts");
        accounts.MapGet("/", List).WithSummary("The caller's accounts with their role in each.");
        accounts.MapPost("/", Create).WithSummary("Create an account; the caller becomes its master.");
        accounts.MapGet("/{accountId:guid}", Get);
        accounts.MapPatch("/{accountId:guid}", Rename).WithSummary("Rename (masters).");

        accounts.MapGet("/{accountId:guid}/members", ListMembers).WithSummary("Members, paged, with an optional search on e-mail or name.");
        accounts.MapPut("/{accountId:guid}/members/{userId:guid}", SetRole).WithSummary("Set a member's role (masters).");
        accounts.MapDelete("/{accountId:guid}/members/{userId:guid}", RemoveMember).WithSummary("Remove a member (masters), or leave (yourself).");

        accounts.MapGet("/{accountId:guid}/invitations", ListInvitations).WithSummary("Invitations sent (masters).");
        accounts.MapPost("/{accountId:guid}/invitations", Invite).WithSummary("Invite by e-mail (masters); the link is mailed, never returned.");
        accounts.MapDelete("/{accountId:guid}/invitations/{invitationId:guid}", RevokeInvitation).WithSummary("Withdraw a pending invitation (masters).");

        api.MapPost("/invitations/accept", Accept).WithTags("Accounts").WithSummary("Accept an invitation with the token from its link.");
        return api;
    }

    public static async Task<Ok<IReadOnlyList<AccountResponse>>> List(ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        TypedResults.Ok(await accounts.ListForUserAsync(user.UserId(), ct));

    public static async Task<Results<Created<AccountResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateAccountRequest request, ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        ApiResults.Created(await accounts.CreateAsync(user.UserId(), request, ct), a => $"/api/v1/accounts/{a.Id}");

    public static async Task<Results<Ok<AccountResponse>, ValidationProblem, ProblemHttpResult>> Get(
        Guid accountId, ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        ApiResults.Ok(await accounts.GetAsync(user.UserId(), accountId, ct));

    public static async Task<Results<Ok<AccountResponse>, ValidationProblem, ProblemHttpResult>> Rename(
        Guid accountId, UpdateAccountRequest request, ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        ApiResults.Ok(await accounts.RenameAsync(user.UserId(), accountId, request, ct));

    public static async Task<Results<Ok<PagedResponse<MemberResponse>>, ValidationProblem, ProblemHttpResult>> ListMembers(
        Guid accountId, int? page, int? pageSize, string? search, ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        ApiResults.Ok(await accounts.ListMembersAsync(user.UserId(), accountId, page, pageSize, search, ct));

    public static async Task<Results<Ok<MemberResponse>, ValidationProblem, ProblemHttpResult>> SetRole(
        Guid accountId, Guid userId, UpdateMemberRequest request, ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        ApiResults.Ok(await accounts.SetRoleAsync(user.UserId(), accountId, userId, request, ct));

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RemoveMember(
        Guid accountId, Guid userId, ClaimsPrincipal user, AccountService accounts, CancellationToken ct) =>
        ApiResults.NoContent(await accounts.RemoveMemberAsync(user.UserId(), accountId, userId, ct));

    public static async Task<Results<Ok<IReadOnlyList<InvitationResponse>>, ValidationProblem, ProblemHttpResult>> ListInvitations(
        Guid accountId, ClaimsPrincipal user, InvitationService invitations, CancellationToken ct) =>
        ApiResults.Ok(await invitations.ListAsync(user.UserId(), accountId, ct));

    public static async Task<Results<Created<InvitationResponse>, ValidationProblem, ProblemHttpResult>> Invite(
        Guid accountId, CreateInvitationRequest request, ClaimsPrincipal user, InvitationService invitations, CancellationToken ct) =>
        ApiResults.Created(await invitations.CreateAsync(user.UserId(), accountId, request, ct), i => $"/api/v1/accounts/{accountId}/invitations/{i.Id}");

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> RevokeInvitation(
        Guid accountId, Guid invitationId, ClaimsPrincipal user, InvitationService invitations, CancellationToken ct) =>
        ApiResults.NoContent(await invitations.RevokeAsync(user.UserId(), accountId, invitationId, ct));

    public static async Task<Results<Ok<AccountResponse>, ValidationProblem, ProblemHttpResult>> Accept(
        AcceptInvitationRequest request, ClaimsPrincipal user, InvitationService invitations, CancellationToken ct) =>
        ApiResults.Ok(await invitations.AcceptAsync(user.UserId(), request.Token, ct));
}
