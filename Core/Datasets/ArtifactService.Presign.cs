using System.Text;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Common;

namespace Platform.Core.Datasets;

public partial class ArtifactService
{
    /// <summary>
    /// How long a presigned download link lives. Links are issued only after the access check, so a revoked share or a
    /// deleted dataset stops a link working within this time at most; the store refuses it after that.
    /// </summary>
    public static readonly TimeSpan PresignedLinkLifetime = TimeSpan.FromSeconds(60);

    /// <summary>
    /// A short-lived URL that downloads the file straight from the object store (S3), after the same access check as
    /// every read; null when the store cannot presign (the filesystem store), and the caller streams the file instead.
    /// </summary>
    public async Task<Result<Uri?>> PresignFileAsync(Guid userId, Guid artifactId, string version, string? path, CancellationToken ct = default)
    {
        var resolved = await ResolveVersionAsync(userId, artifactId, version, ct);
        if (!resolved.IsSuccess)
        {
            return resolved.Error!;
        }

        var normalized = (path ?? "").Normalize(NormalizationForm.FormC);
        var file = await db.ArtifactFiles.AsNoTracking().FirstOrDefaultAsync(f => f.VersionId == resolved.Value && f.Path == normalized, ct);
        if (file is null)
        {
            return Error.NotFound($"File '{normalized}'");
        }

        return store.PresignRead(file.ObjectKey, PresignedLinkLifetime, System.IO.Path.GetFileName(file.Path));
    }
}
