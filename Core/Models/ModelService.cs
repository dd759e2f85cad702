using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Platform.Core.Accounts;
using Platform.Core.Common;
using Platform.Core.Datasets;
using Platform.Core.Persistence;
using Platform.Core.Storage;

namespace Platform.Core.Models;

/// <summary>
/// Models: the artifact machinery for <see cref="ArtifactKind.Model"/> (files, versions, shares and the public catalog
/// come from <see cref="ArtifactService"/> with the same access rule), plus metadata (framework, format, input and
/// output schemas, metrics, the job that produced it) and aliases ("production") naming published versions.
/// Metadata and aliases need write access; reading them needs what reading the model needs.
/// </summary>
public sealed class ModelService(PlatformDbContext db, AccountService accounts, IObjectStore store, TimeProvider clock)
    : ArtifactService(ArtifactKind.Model, db, accounts, store, clock)
{
    public const int MaxLabelLength = 50;
    public const int MaxSchemaBytes = 64 * 1024;
    public const int MaxMetricsBytes = 16 * 1024;
    public const int MaxMetrics = 100;

    public async Task<Result<ModelResponse>> CreateModelAsync(Guid userId, CreateModelRequest request, CancellationToken ct = default)
    {
        var basics = new CreateDatasetRequest(request.AccountId, request.Name, request.Description, request.License, request.Tags);
        var errors = Validate(basics);
        var metadata = new Metadata(
            Label("framework", request.Framework, errors), Label("format", request.Format, errors),
            Json("inputSchema", request.InputSchema, errors), Json("outputSchema", request.OutputSchema, errors), Json("metrics", request.Metrics, errors));
        if (errors.Any)
        {
            return errors.ToError();
        }

        var created = await CreateAsync(userId, basics, ct);
        if (!created.IsSuccess)
        {
            return created.Error!;
        }

        var id = created.Value!.Id;
        await Db.Artifacts.Where(a => a.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(a => a.Framework, metadata.Framework.Value)
            .SetProperty(a => a.Format, metadata.Format.Value)
            .SetProperty(a => a.InputSchema, metadata.InputSchema.Value)
            .SetProperty(a => a.OutputSchema, metadata.OutputSchema.Value)
            .SetProperty(a => a.Metrics, metadata.Metrics.Value), ct);
        return (await DescribeModelAsync(id, ct))!;
    }

    /// <summary>Models of the caller's accounts and those shared with them, paged, with search and a framework filter.</summary>
    public Task<PagedResponse<ModelResponse>> ListModelsAsync(
        Guid userId, int? page, int? pageSize, string? search, string? framework, CancellationToken ct = default) =>
        PageModelsAsync(ListedFor(userId), page, pageSize, search, framework, ct);

    /// <summary>The public catalog of models.</summary>
    public Task<PagedResponse<ModelResponse>> CatalogModelsAsync(int? page, int? pageSize, string? search, string? framework, CancellationToken ct = default) =>
        PageModelsAsync(Db.Artifacts.Where(a => a.IsPublic), page, pageSize, search, framework, ct);

    public async Task<Result<ModelResponse>> GetModelAsync(Guid userId, Guid modelId, CancellationToken ct = default)
    {
        var found = await RequireAsync(userId, modelId, DatasetAccess.Read, ct);
        return found.IsSuccess ? (await DescribeModelAsync(modelId, ct))! : found.Error!;
    }

    /// <summary>Changes the metadata named in the request (see <see cref="UpdateModelRequest"/>); the rest stays.</summary>
    public async Task<Result<ModelResponse>> UpdateModelAsync(Guid userId, Guid modelId, UpdateModelRequest request, CancellationToken ct = default)
    {
        var found = await RequireAsync(userId, modelId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var artifact = await Db.Artifacts.SingleAsync(a => a.Id == modelId, ct);
        var description = request.Description is null ? artifact.Description : request.Description.Trim();
        var license = request.License is null ? artifact.License : string.IsNullOrWhiteSpace(request.License) ? null : request.License.Trim();
        var tags = request.Tags is null ? artifact.Tags : NormalizeTags(request.Tags);
        var errors = Validate(new CreateDatasetRequest(null, artifact.Name, description, license, tags));
        var metadata = new Metadata(
            Label("framework", request.Framework, errors), Label("format", request.Format, errors),
            Json("inputSchema", request.InputSchema, errors), Json("outputSchema", request.OutputSchema, errors), Json("metrics", request.Metrics, errors));
        if (errors.Any)
        {
            return errors.ToError();
        }

        artifact.Description = description;
        artifact.License = license;
        artifact.Tags = tags;
        artifact.Framework = metadata.Framework.Given ? metadata.Framework.Value : artifact.Framework;
        artifact.Format = metadata.Format.Given ? metadata.Format.Value : artifact.Format;
        artifact.InputSchema = metadata.InputSchema.Given ? metadata.InputSchema.Value : artifact.InputSchema;
        artifact.OutputSchema = metadata.OutputSchema.Given ? metadata.OutputSchema.Value : artifact.OutputSchema;
        artifact.Metrics = metadata.Metrics.Given ? metadata.Metrics.Value : artifact.Metrics;
        artifact.UpdatedAt = Clock.GetUtcNow();
        await Db.SaveChangesAsync(ct);
        return (await DescribeModelAsync(modelId, ct))!;
    }

    /// <summary>Points <paramref name="alias"/> at a published version, creating the alias or moving it.</summary>
    public async Task<Result<ModelResponse>> SetAliasAsync(Guid userId, Guid modelId, string alias, SetAliasRequest request, CancellationToken ct = default)
    {
        var found = await RequireAsync(userId, modelId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        if (!IsValidAlias(alias))
        {
            return Error.Invalid("alias", AliasRule);
        }

        // "latest" is taken at its current meaning: the alias stays on that number when later versions are published.
        var reference = request.Version?.Trim() == "latest"
            ? (await Db.ArtifactVersions.Where(v => v.ArtifactId == modelId).MaxAsync(v => v.Number, ct))?.ToString(System.Globalization.CultureInfo.InvariantCulture)
            : request.Version;
        if (reference is null)
        {
            return Error.NotFound("Version 'latest'");
        }

        var version = await PublishedVersionAsync(modelId, reference, ct);
        if (!version.IsSuccess)
        {
            return version.Error!;
        }

        var row = await Db.ArtifactAliases.FirstOrDefaultAsync(a => a.ArtifactId == modelId && a.Alias == alias, ct);
        if (row is null)
        {
            row = new ArtifactAlias { ArtifactId = modelId, Alias = alias };
            Db.ArtifactAliases.Add(row);
        }

        row.VersionId = version.Value!.Id;
        row.SetByUserId = userId;
        row.SetAt = Clock.GetUtcNow();
        try
        {
            await Db.SaveChangesAsync(ct);
        }
        catch (DbUpdateException ex) when (ex.InnerException is Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.ForeignKeyViolation or Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            // The version was deleted, or someone set the same alias, at the same moment.
            Db.ChangeTracker.Clear();
            return Error.Conflict($"The alias '{alias}' or version {request.Version} changed meanwhile; reload and try again.");
        }

        return (await DescribeModelAsync(modelId, ct))!;
    }

    public async Task<Result> RemoveAliasAsync(Guid userId, Guid modelId, string alias, CancellationToken ct = default)
    {
        var found = await RequireAsync(userId, modelId, DatasetAccess.Write, ct);
        if (!found.IsSuccess)
        {
            return found.Error!;
        }

        var deleted = await Db.ArtifactAliases.Where(a => a.ArtifactId == modelId && a.Alias == alias).ExecuteDeleteAsync(ct);
        return deleted == 0 ? Error.NotFound($"Alias '{alias}'") : Result.Success;
    }

    /// <summary>
    /// Resolves "name", "name@3", "name@production", "name@latest" or "name@draft" among the models the caller can read
    /// (their accounts', shared with them, public). One of the caller's own accounts wins over shared and public models
    /// of the same name; where that still leaves several, <paramref name="accountId"/> chooses.
    /// </summary>
    public async Task<Result<ResolvedModelResponse>> ResolveAsync(Guid userId, string? reference, Guid? accountId, CancellationToken ct = default)
    {
        var (name, hasVersion, version) = (reference ?? "").Trim().Partition('@');
        if (name.Length == 0 || (hasVersion && version.Length == 0))
        {
            return Error.Invalid("ref", "Give a model reference: name, name@3, name@production or name@latest.");
        }

        var listed = ListedFor(userId).Select(a => a.Id);
        var mine = Db.Memberships.Where(m => m.UserId == userId).Select(m => m.AccountId);
        var candidates = await Db.Artifacts.AsNoTracking()
            .Where(a => a.Kind == ArtifactKind.Model && a.Name == name && (listed.Contains(a.Id) || a.IsPublic))
            .Where(a => accountId == null || a.AccountId == accountId)
            .Select(a => new { a.Id, a.AccountId, Mine = mine.Contains(a.AccountId) })
            .ToListAsync(ct);
        var chosen = candidates.Any(c => c.Mine) ? candidates.Where(c => c.Mine).ToList() : candidates;
        if (chosen.Count == 0)
        {
            return Error.NotFound($"Model '{name}'");
        }

        if (chosen.Count > 1)
        {
            return Error.Conflict($"Several models named '{name}' are visible to you (accounts {string.Join(", ", chosen.Select(c => c.AccountId))}); " +
                "give the account id to choose one.");
        }

        var id = chosen[0].Id;
        var resolved = await ResolveVersionAsync(userId, id, string.IsNullOrEmpty(version) ? "latest" : version, ct);
        if (!resolved.IsSuccess)
        {
            return resolved.Error!;
        }

        return new ResolvedModelResponse((await DescribeModelAsync(id, ct))!, await DescribeVersionAsync(resolved.Value, ct));
    }

    private async Task<PagedResponse<ModelResponse>> PageModelsAsync(
        IQueryable<Artifact> artifacts, int? page, int? pageSize, string? search, string? framework, CancellationToken ct)
    {
        var (p, size) = Paging.Normalize(page, pageSize);
        var query = Searched(artifacts.AsNoTracking().Where(a => a.Kind == ArtifactKind.Model), search);
        if (!string.IsNullOrWhiteSpace(framework))
        {
            var wanted = framework.Trim().ToLowerInvariant();
            query = query.Where(a => a.Framework == wanted);
        }

        var total = await query.CountAsync(ct);
        var ids = await query.OrderBy(a => a.Name).ThenBy(a => a.Id).Skip((p - 1) * size).Take(size).Select(a => a.Id).ToListAsync(ct);
        var items = new List<ModelResponse>(ids.Count);
        foreach (var id in ids)
        {
            items.Add((await DescribeModelAsync(id, ct))!);
        }

        return new PagedResponse<ModelResponse>(items, total, p, size);
    }

    private async Task<ModelResponse?> DescribeModelAsync(Guid modelId, CancellationToken ct)
    {
        var d = await DescribeAsync(modelId, ct);
        if (d is null)
        {
            return null;
        }

        var m = await Db.Artifacts.AsNoTracking().Where(a => a.Id == modelId)
            .Select(a => new { a.Framework, a.Format, a.InputSchema, a.OutputSchema, a.Metrics, a.SourceJobId }).SingleAsync(ct);
        return new ModelResponse(d.Id, d.AccountId, d.Name, d.Description, d.License, d.Tags, d.CreatedAt, d.UpdatedAt, d.LatestVersion, d.Draft,
            d.IsPublic, m.Framework, m.Format, Parse(m.InputSchema), Parse(m.OutputSchema), Parse(m.Metrics), m.SourceJobId,
            await AliasesOfAsync(modelId, ct));
    }

    private static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>A text field of a patch: <see cref="Given"/> false leaves the stored value as it is.</summary>
    private readonly record struct Field(bool Given, string? Value);

    private sealed record Metadata(Field Framework, Field Format, Field InputSchema, Field OutputSchema, Field Metrics);

    /// <summary>A short label (framework, format): null is not given, blank clears, otherwise trimmed and lower-cased.</summary>
    private static Field Label(string field, string? value, FieldErrors errors)
    {
        if (value is null)
        {
            return new Field(false, null);
        }

        var trimmed = value.Trim().ToLowerInvariant();
        if (trimmed.Length > MaxLabelLength || trimmed.Any(char.IsControl))
        {
            errors.Add(field, $"At most {MaxLabelLength} characters, without control characters.");
        }

        return new Field(true, trimmed.Length == 0 ? null : trimmed);
    }

    /// <summary>A schema or the metrics: absent is not given, null clears, otherwise a JSON object within its bounds.</summary>
    private static Field Json(string field, JsonElement value, FieldErrors errors)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
                return new Field(false, null);
            case JsonValueKind.Null:
                return new Field(true, null);
            case not JsonValueKind.Object:
                errors.Add(field, "Must be a JSON object.");
                return new Field(true, null);
        }

        var text = value.GetRawText();
        var metrics = field == "metrics";
        var limit = metrics ? MaxMetricsBytes : MaxSchemaBytes;
        if (System.Text.Encoding.UTF8.GetByteCount(text) > limit)
        {
            errors.Add(field, $"At most {limit / 1024} KiB of JSON.");
        }
        else if (metrics)
        {
            var entries = value.EnumerateObject().ToList();
            if (entries.Count > MaxMetrics)
            {
                errors.Add(field, $"At most {MaxMetrics} metrics.");
            }
            else if (entries.Any(e => e.Name.Length is 0 or > 100))
            {
                errors.Add(field, "Each metric needs a name of 1 to 100 characters.");
            }
            else if (entries.Where(e => e.Value.ValueKind is not (JsonValueKind.Number or JsonValueKind.String or JsonValueKind.True or JsonValueKind.False))
                         .Select(e => e.Name).FirstOrDefault() is { } bad)
            {
                errors.Add(field, $"Metric '{bad}' must be a number, a string or a boolean.");
            }
        }

        return new Field(true, text);
    }
}

internal static class StringPartition
{
    /// <summary>Splits at the first <paramref name="separator"/>, like Python's str.partition.</summary>
    public static (string Before, bool Found, string After) Partition(this string value, char separator)
    {
        var at = value.IndexOf(separator);
        return at < 0 ? (value, false, "") : (value[..at], true, value[(at + 1)..]);
    }
}
