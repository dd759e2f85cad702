using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;
using Platform.Core.Persistence;

namespace Platform.Core.Jobs;

/// <summary>What a running job says about itself (the SDK's <c>report_progress</c>): a fraction from 0 to 1 and a line.</summary>
public sealed record ReportProgressRequest(double? Fraction, string? Message);

/// <summary>
/// Progress reported by a job's own code. Only the job's own key (<see cref="JobKeys"/>, the <c>PLATFORM_API_KEY</c> of
/// its replicas) may report: the owner signed in otherwise is refused (403), anyone who cannot see the job gets not found.
/// Accepted while the job is starting or running (the key stops working at once afterwards anyway).
/// </summary>
public sealed class JobProgress(PlatformDbContext db, JobService jobs, TimeProvider clock)
{
    public const int MessageMaxLength = 200;

    /// <param name="userId">The caller.</param>
    /// <param name="keyJobId">The job whose key the caller presented; null for any other credential.</param>
    public async Task<Result> ReportAsync(Guid userId, Guid? keyJobId, Guid jobId, ReportProgressRequest request, CancellationToken ct = default)
    {
        if (keyJobId != jobId)
        {
            return await jobs.FindAsync(userId, jobId, ct) is null
                ? Error.NotFound("Job")
                : Error.Forbidden("Only the job itself reports its progress, with the PLATFORM_API_KEY its replicas were given.");
        }

        var errors = new FieldErrors();
        if (request.Fraction is not { } fraction || double.IsNaN(fraction) || fraction is < 0 or > 1)
        {
            errors.Add("fraction", "Give the fraction done, a number from 0 to 1.");
        }

        var message = request.Message?.Trim();
        if (message is { Length: > MessageMaxLength } || message is not null && message.Any(char.IsControl))
        {
            errors.Add("message", $"At most {MessageMaxLength} characters on one line.");
        }

        if (errors.Any)
        {
            return errors.ToError();
        }

        var now = clock.GetUtcNow();
        var changed = await db.Jobs
            .Where(j => j.Id == jobId && j.Desired == JobDesired.Running && (j.Observed == JobObserved.Starting || j.Observed == JobObserved.Running))
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Progress, request.Fraction)
                .SetProperty(j => j.ProgressMessage, string.IsNullOrEmpty(message) ? null : message)
                .SetProperty(j => j.ProgressAt, now), ct);
        if (changed == 0)
        {
            return Error.Conflict("The job is not running any more.");
        }

        await db.Database.ExecuteSqlInterpolatedAsync($"SELECT pg_notify({JobService.Channel}, {jobId.ToString()})", ct);
        return Result.Success;
    }
}
