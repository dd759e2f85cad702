using System.Text.Json;
using Platform.Core.Datasets;

namespace Platform.Core.Models;

/// <summary>
/// A new model. Schemas and metrics are JSON objects (absent or null: none); metric values are numbers, strings or
/// booleans. Framework and format are stored lower-case ("pytorch", "safetensors").
/// </summary>
public sealed record CreateModelRequest(
    Guid? AccountId, string? Name, string? Description, string? License, IReadOnlyList<string>? Tags,
    string? Framework, string? Format, JsonElement InputSchema, JsonElement OutputSchema, JsonElement Metrics);

/// <summary>
/// Changes to a model's metadata. A field left out stays as it is; to clear one, send "" for a text field, [] for the
/// tags and null for a schema or the metrics.
/// </summary>
public sealed record UpdateModelRequest(
    string? Description, string? License, IReadOnlyList<string>? Tags, string? Framework, string? Format,
    JsonElement InputSchema, JsonElement OutputSchema, JsonElement Metrics);

/// <summary>Points an alias at a published version: its number, "latest" or another alias, resolved when the alias is set.</summary>
public sealed record SetAliasRequest(string? Version);

/// <summary>Everything a dataset has, plus the model's metadata and its aliases (alias to version number).</summary>
public sealed record ModelResponse(
    Guid Id, Guid AccountId, string Name, string Description, string? License, IReadOnlyList<string> Tags,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int? LatestVersion, VersionSummary Draft, bool IsPublic,
    string? Framework, string? Format, JsonElement? InputSchema, JsonElement? OutputSchema, JsonElement? Metrics, Guid? SourceJobId,
    IReadOnlyDictionary<string, int> Aliases);

/// <summary>A model reference ("name@production") resolved: the model and the version it names.</summary>
public sealed record ResolvedModelResponse(ModelResponse Model, VersionResponse Version);
