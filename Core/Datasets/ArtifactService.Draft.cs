using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;

namespace Platform.Core.Datasets;

public partial class ArtifactService
{
    /// <summary>
    /// Removes a file from the draft (published versions keep theirs), so a draft can be made to hold exactly a new
    /// set of files; the object is freed when no version refers to it any more.
    /// </summary>
    public async Task<Result> DeleteDraftFileAsync(Guid userId, Guid artifactId, string? path, CancellationToken ct = default)
    {
        var found = await FindAsync(userId, artifactId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var normalized = (path ?? "").Normalize(NormalizationForm.FormC);
        string key;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            var draft = await LockDraftAsync(artifactId, ct);
            var file = await db.ArtifactFiles.FirstOrDefaultAsync(f => f.VersionId == draft.Id && f.Path == normalized, ct);
            if (file is null)
            {
                return Error.NotFound($"File '{normalized}' in the draft");
            }

            key = file.ObjectKey;
            db.ArtifactFiles.Remove(file);
            draft.FileCount--;
            draft.TotalBytes -= file.Size;
            await db.SaveChangesAsync(ct);
            await db.Artifacts.Where(a => a.Id == artifactId).ExecuteUpdateAsync(s => s.SetProperty(a => a.UpdatedAt, clock.GetUtcNow()), ct);
            await tx.CommitAsync(ct);
        }

        await FreeUnreferencedAsync([key], ct);
        return Result.Success;
    }
}
