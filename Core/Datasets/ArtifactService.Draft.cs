using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;

namespace Platform.Core.Datasets;

public partial class ArtifactService
{
    /// <summary>
    /// Removes a file from the draft (writers); published versions keep theirs. Its object is freed when no version
    /// refers to it any more, and the quota with it.
    /// </summary>
    public async Task<Result> DeleteDraftFileAsync(Guid userId, Guid artifactId, string? path, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, artifactId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var normalized = (path ?? "").Normalize(NormalizationForm.FormC);
        string? key;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var draft = await ShareLockDraftAsync(artifactId, ct);
            key = (await db.Database.SqlQuery<string>(
                    $"""DELETE FROM "ArtifactFiles" WHERE "VersionId" = {draft} AND "Path" = {normalized} RETURNING "ObjectKey" AS "Value" """)
                .ToListAsync(ct)).SingleOrDefault();
            await tx.CommitAsync(ct);
        }

        if (key is null)
        {
            return Error.NotFound($"File '{normalized}' in the draft");
        }

        await TouchAsync(artifactId, clock.GetUtcNow(), ct);
        await FreeUnreferencedAsync([key], ct);
        return Result.Success;
    }
}
