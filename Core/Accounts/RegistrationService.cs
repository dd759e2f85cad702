using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Admin;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Accounts;

/// <summary>
/// Creates users: the very first becomes platform admin; every user gets an account of their own (as master),
/// and joins the inviting account when registering from an invitation link. In invite-only mode a valid
/// invitation for the same address is required.
/// </summary>
public sealed class RegistrationService(
    PlatformDbContext db, UserManager<PlatformUser> users, InvitationService invitations, SettingsService settings, TimeProvider clock)
{
    /// <summary>Serialises registrations so that exactly one "first user" becomes admin.</summary>
    private const long RegistrationLockKey = 0x506C6174_52656731; // "PlatReg1"

    public async Task<Result<PlatformUser>> RegisterAsync(RegisterRequest request, CancellationToken ct = default)
    {
        var errors = new FieldErrors();
        var email = request.Email?.Trim() ?? "";
        var displayName = request.DisplayName?.Trim() ?? "";
        if (!InvitationService.IsEmail(email))
        {
            errors.Add("email", "A valid e-mail address is required.");
        }

        if (displayName.Length is 0 or > 100)
        {
            errors.Add("displayName", "Name is required (at most 100 characters).");
        }

        if (string.IsNullOrEmpty(request.Password))
        {
            errors.Add("password", "Password is required.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_advisory_xact_lock({RegistrationLockKey})", ct);

        var isFirst = !await db.Users.AnyAsync(ct);
        Invitation? invitation = null;
        if (!string.IsNullOrWhiteSpace(request.InvitationToken))
        {
            invitation = await invitations.FindAsync(request.InvitationToken, ct);
            if (invitation is null || invitation.StatusAt(clock.GetUtcNow()) != InvitationStatus.Pending)
            {
                return Error.Invalid("invitationToken", "This invitation link is not valid any more; ask for a new one.");
            }

            if (!string.Equals(invitation.NormalizedEmail, email.ToUpperInvariant(), StringComparison.Ordinal))
            {
                return Error.Invalid("email", $"This invitation was sent to {invitation.Email}; register with that address.");
            }
        }
        else if (!isFirst && await settings.GetRegistrationModeAsync(ct) == RegistrationMode.InviteOnly)
        {
            return Error.Forbidden("Registration is by invitation only: ask an account master to invite you.");
        }

        var now = clock.GetUtcNow();
        var user = new PlatformUser
        {
            Id = Guid.CreateVersion7(),
            UserName = email,
            Email = email,
            DisplayName = displayName,
            IsPlatformAdmin = isFirst,
            CreatedAt = now,
        };
        var created = await users.CreateAsync(user, request.Password!);
        if (!created.Succeeded)
        {
            return IdentityErrors.ToError(created);
        }

        var account = AccountService.NewAccount($"{displayName}'s workspace", user.Id, now);
        db.Accounts.Add(account);
        user.CurrentAccountId = account.Id;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);

        if (invitation is not null)
        {
            var accepted = await invitations.AcceptAsync(user.Id, request.InvitationToken, ct);
            if (!accepted.IsSuccess)
            {
                return accepted.Error!;
            }
        }

        return user;
    }
}

/// <summary>Maps Identity's error codes onto the fields a form shows them beside.</summary>
public static class IdentityErrors
{
    public static Error ToError(IdentityResult result)
    {
        var errors = new FieldErrors();
        foreach (var e in result.Errors)
        {
            switch (e.Code)
            {
                case nameof(IdentityErrorDescriber.DuplicateEmail):
                case nameof(IdentityErrorDescriber.DuplicateUserName):
                    errors.Add("email", "A user with this e-mail address already exists. Sign in, or reset your password.");
                    break;
                case nameof(IdentityErrorDescriber.InvalidEmail):
                case nameof(IdentityErrorDescriber.InvalidUserName):
                    errors.Add("email", e.Description);
                    break;
                case nameof(IdentityErrorDescriber.InvalidToken):
                    errors.Add("token", "This link has already been used or has expired; ask for a new one.");
                    break;
                case nameof(IdentityErrorDescriber.PasswordMismatch):
                    errors.Add("currentPassword", "The current password is not correct.");
                    break;
                default:
                    errors.Add(e.Code.StartsWith("Password", StringComparison.Ordinal) ? "password" : "", e.Description);
                    break;
            }
        }

        // Identity reports a duplicate user name and a duplicate e-mail for the same cause; say it once.
        var error = errors.ToError();
        return error with { Fields = error.Fields!.ToDictionary(f => f.Key, f => f.Value.Distinct().ToArray()) };
    }
}
