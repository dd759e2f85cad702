using System.Net.Mail;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Mail;
using Platform.Core.Persistence;

namespace Platform.Core.Accounts;

/// <summary>
/// A master invites by e-mail; the link carries a one-time token that only the invited address can accept.
/// The token is stored hashed, so a database reader cannot join accounts.
/// </summary>
public sealed class InvitationService(
    PlatformDbContext db, AccountService accounts, MailService mail, IOptions<PlatformOptions> options, TimeProvider clock)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromDays(7);

    public async Task<Result<InvitationResponse>> CreateAsync(
        Guid userId, Guid accountId, CreateInvitationRequest request, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(userId, accountId, AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        var errors = new FieldErrors();
        var email = request.Email?.Trim() ?? "";
        if (!IsEmail(email))
        {
            errors.Add("email", "A valid e-mail address is required.");
        }

        if (!Roles.TryParse(request.Role ?? "member", out var role))
        {
            errors.Add("role", "Role must be one of: master, member, viewer.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var normalized = email.ToUpperInvariant();
        if (await db.Memberships.AnyAsync(m => m.AccountId == accountId && m.User!.NormalizedEmail == normalized, ct))
        {
            return Error.Conflict($"{email} is already a member of this account.");
        }

        var now = clock.GetUtcNow();
        // A new invitation to the same address replaces the pending one, so only the latest link works.
        await db.Invitations
            .Where(i => i.AccountId == accountId && i.NormalizedEmail == normalized && i.AcceptedAt == null && i.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.RevokedAt, now), ct);

        var token = Secrets.NewToken(43);
        var invitation = new Invitation
        {
            Id = Guid.CreateVersion7(),
            AccountId = accountId,
            Email = email,
            NormalizedEmail = normalized,
            Role = role,
            TokenHash = Secrets.Hash(token),
            InvitedByUserId = userId,
            CreatedAt = now,
            ExpiresAt = now + Lifetime,
        };
        db.Invitations.Add(invitation);
        await db.SaveChangesAsync(ct);

        var inviter = await db.Users.AsNoTracking().Where(u => u.Id == userId).Select(u => new { u.DisplayName, u.Email }).FirstAsync(ct);
        var accountName = await db.Accounts.Where(a => a.Id == accountId).Select(a => a.Name).FirstAsync(ct);
        var link = $"{options.Value.PublicUrl.TrimEnd('/')}/Invitations/Accept?token={token}";
        await mail.SendAsync(email, $"You are invited to {accountName} on Platform",
            $"""
            {inviter.DisplayName} ({inviter.Email}) invited you to join the account "{accountName}" as {role.ToApi()}.

            Accept the invitation (valid until {invitation.ExpiresAt:yyyy-MM-dd HH:mm} UTC):
            {link}

            If you have no Platform user yet, the link lets you register with this address first.
            """, ct);
        return ToResponse(invitation, now);
    }

    public async Task<Result<IReadOnlyList<InvitationResponse>>> ListAsync(Guid userId, Guid accountId, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(userId, accountId, AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        var now = clock.GetUtcNow();
        var rows = await db.Invitations.AsNoTracking()
            .Where(i => i.AccountId == accountId)
            .OrderByDescending(i => i.CreatedAt)
            .Take(500)
            .ToListAsync(ct);
        return rows.Select(i => ToResponse(i, now)).ToList();
    }

    public async Task<Result> RevokeAsync(Guid userId, Guid accountId, Guid invitationId, CancellationToken ct = default)
    {
        var access = await accounts.RequireRoleAsync(userId, accountId, AccountRole.Master, ct);
        if (!access.IsSuccess)
        {
            return access.Error!;
        }

        var invitation = await db.Invitations.FirstOrDefaultAsync(i => i.Id == invitationId && i.AccountId == accountId, ct);
        if (invitation is null)
        {
            return Error.NotFound("Invitation");
        }

        if (invitation.AcceptedAt is not null)
        {
            return Error.Conflict("This invitation was already accepted; remove the member instead.");
        }

        invitation.RevokedAt ??= clock.GetUtcNow();
        await db.SaveChangesAsync(ct);
        return Result.Success;
    }

    public async Task<Result<InvitationPreview>> PreviewAsync(string? token, CancellationToken ct = default)
    {
        var invitation = await FindAsync(token, ct);
        if (invitation is null)
        {
            return Error.NotFound("Invitation");
        }

        var inviter = await db.Users.AsNoTracking().Where(u => u.Id == invitation.InvitedByUserId).Select(u => u.DisplayName).FirstOrDefaultAsync(ct);
        return new InvitationPreview(invitation.Account!.Name, inviter ?? "a former member", invitation.Email,
            invitation.Role.ToApi(), invitation.StatusAt(clock.GetUtcNow()).ToString().ToLowerInvariant());
    }

    /// <summary>Joins the invited account. Only the invited address may accept; a token works once.</summary>
    public async Task<Result<AccountResponse>> AcceptAsync(Guid userId, string? token, CancellationToken ct = default)
    {
        var invitation = await FindAsync(token, ct);
        if (invitation is null)
        {
            return Error.NotFound("Invitation");
        }

        var now = clock.GetUtcNow();
        switch (invitation.StatusAt(now))
        {
            case InvitationStatus.Accepted:
                return Error.Conflict("This invitation has already been used.");
            case InvitationStatus.Revoked:
                return Error.Conflict("This invitation was withdrawn; ask for a new one.");
            case InvitationStatus.Expired:
                return Error.Conflict("This invitation has expired; ask for a new one.");
        }

        var user = await db.Users.FirstAsync(u => u.Id == userId, ct);
        if (!string.Equals(user.NormalizedEmail, invitation.NormalizedEmail, StringComparison.Ordinal))
        {
            return Error.Forbidden($"This invitation was sent to {invitation.Email}; sign in with that address to accept it.");
        }

        var membership = await db.Memberships.FirstOrDefaultAsync(m => m.AccountId == invitation.AccountId && m.UserId == userId, ct);
        if (membership is null)
        {
            db.Memberships.Add(new Membership { AccountId = invitation.AccountId, UserId = userId, Role = invitation.Role, JoinedAt = now });
        }
        else if (membership.Role < invitation.Role)
        {
            membership.Role = invitation.Role;
        }

        invitation.AcceptedAt = now;
        invitation.AcceptedByUserId = userId;
        user.CurrentAccountId = invitation.AccountId;
        await db.SaveChangesAsync(ct);
        return await accounts.GetAsync(userId, invitation.AccountId, ct);
    }

    internal async Task<Invitation?> FindAsync(string? token, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(token) || token.Length > 200)
        {
            return null;
        }

        var hash = Secrets.Hash(token.Trim());
        return await db.Invitations.Include(i => i.Account).FirstOrDefaultAsync(i => i.TokenHash == hash, ct);
    }

    internal static bool IsEmail(string value) =>
        value.Length is > 2 and <= 256 && MailAddress.TryCreate(value, out var parsed) && parsed.Address == value;

    private static InvitationResponse ToResponse(Invitation i, DateTimeOffset now) =>
        new(i.Id, i.AccountId, i.Email, i.Role.ToApi(), i.StatusAt(now).ToString().ToLowerInvariant(), i.CreatedAt, i.ExpiresAt);
}
