using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Core.Metrics;

/// <summary>Per-run and per-batch limits (<c>Platform:Metrics:*</c>).</summary>
public sealed class MetricsOptions
{
    public const string Section = "Platform:Metrics";

    /// <summary>Points in one ingested batch.</summary>
    public int MaxBatch { get; set; } = 10_000;

    /// <summary>Distinct series (metric names) in one run.</summary>
    public int MaxSeriesPerRun { get; set; } = 1_000;

    /// <summary>Points kept in one run.</summary>
    public long MaxPointsPerRun { get; set; } = 10_000_000;
}

/// <summary><c>POST /runs</c>: a job's run (found or made), or a new experiment run (no job).</summary>
public sealed record CreateRunRequest(string? Name, Guid? JobId);

/// <summary><c>POST /runs/{id}/graphs</c>: <c>draw_board(*metrics, title=...)</c>, upserted by title.</summary>
public sealed record GraphRequest(string? Title, List<string?>? Series);

public sealed record GraphResponse(string Title, IReadOnlyList<string> Series, int Position);

/// <summary>A run in lists. Times are ISO 8601; <see cref="State"/> is "open" or "finished".</summary>
public record RunSummary
{
    public Guid Id { get; init; }
    public Guid AccountId { get; init; }
    public Guid OwnerUserId { get; init; }
    public string Owner { get; init; } = "";
    public Guid? JobId { get; init; }
    public string? JobState { get; init; }
    public string Name { get; init; } = "";
    public string State { get; init; } = "open";
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }
    public DateTimeOffset? FinishedAt { get; init; }
    public long PointCount { get; init; }
    public long Bytes { get; init; }
    public long Dropped { get; init; }
    public int SeriesCount { get; init; }
}

/// <summary>One series of a run with its counters; <see cref="LastAt"/> in Unix milliseconds.</summary>
public sealed record SeriesSummary(
    string Name,
    long PointCount,
    long? FirstStep,
    long? LastStep,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double? LastValue,
    long? LastAt);

/// <summary>A run with its series and graphs (board order).</summary>
public sealed record RunResponse : RunSummary
{
    public IReadOnlyList<SeriesSummary> Series { get; init; } = [];
    public IReadOnlyList<GraphResponse> Graphs { get; init; } = [];
}

/// <summary>
/// One point as posted. Read leniently by <see cref="PointInputConverter"/>: a field of the wrong JSON type is marked
/// invalid instead of failing the whole body, so the answer can name it (<c>points[12].value</c>).
/// </summary>
[JsonConverter(typeof(PointInputConverter))]
public struct PointInput
{
    public string? Name;
    public long Step;
    public double Value;
    public double? At;
    public bool HasStep;
    public bool HasValue;
    public bool BadName;
    public bool BadStep;
    public bool BadValue;
    public bool BadAt;

    public PointInput(string name, long step, double value, double? at = null)
    {
        Name = name;
        Step = step;
        Value = value;
        At = at;
        HasStep = true;
        HasValue = true;
    }
}

/// <summary><c>POST /runs/{id}/points</c>: points, and how many the SDK dropped since its previous accepted batch.</summary>
public sealed record IngestRequest(List<PointInput>? Points, long? Dropped = null);

public sealed record IngestResponse(int Accepted, int Duplicates, IReadOnlyDictionary<string, long> LastSteps);

/// <summary>The points of one series in a range: raw (level 0) or rollup buckets of 2^level steps.</summary>
public sealed record SeriesPoints(
    string Name,
    long? From,
    long? To,
    long Total,
    int Level,
    long[] Steps,
    long[] Times,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals)] double[] Values,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double[]? Min,
    [property: JsonNumberHandling(JsonNumberHandling.AllowNamedFloatingPointLiterals), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double[]? Max);

public sealed record PointsResponse(Guid RunId, IReadOnlyList<SeriesPoints> Series);

/// <summary>
/// Reads a point object field by field: name (string), step (integer), value (number or "NaN", "Infinity",
/// "-Infinity"), at (Unix seconds, number or null). Unknown fields are skipped.
/// </summary>
public sealed class PointInputConverter : JsonConverter<PointInput>
{
    public override PointInput Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var point = new PointInput();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            Skip(ref reader);
            point.BadName = true;
            return point;
        }

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var property = reader.GetString();
            reader.Read();
            switch (property)
            {
                case "name" or "Name":
                    if (reader.TokenType == JsonTokenType.String)
                    {
                        point.Name = reader.GetString();
                    }
                    else
                    {
                        point.BadName = true;
                    }

                    break;
                case "step" or "Step":
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var step))
                    {
                        point.Step = step;
                        point.HasStep = true;
                    }
                    else
                    {
                        point.BadStep = reader.TokenType != JsonTokenType.Null;
                    }

                    break;
                case "value" or "Value":
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var number) && double.IsFinite(number))
                    {
                        point.Value = number;
                        point.HasValue = true;
                    }
                    else if (reader.TokenType == JsonTokenType.String && ParseNamed(reader.GetString()) is { } named)
                    {
                        point.Value = named;
                        point.HasValue = true;
                    }
                    else
                    {
                        point.BadValue = true;
                    }

                    break;
                case "at" or "At":
                    if (reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var at))
                    {
                        point.At = at;
                    }
                    else if (reader.TokenType != JsonTokenType.Null)
                    {
                        point.BadAt = true;
                    }

                    break;
            }

            Skip(ref reader);
        }

        return point;
    }

    public override void Write(Utf8JsonWriter writer, PointInput value, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString("name", value.Name);
        writer.WriteNumber("step", value.Step);
        WriteValue(writer, "value", value.Value);
        if (value.At is { } at)
        {
            writer.WriteNumber("at", at);
        }

        writer.WriteEndObject();
    }

    // Async reads buffer the whole point first but keep IsFinalBlock false, where Skip() throws and TrySkip() works.
    private static void Skip(ref Utf8JsonReader reader)
    {
        if (!reader.TrySkip())
        {
            throw new JsonException("A point is cut short.");
        }
    }

    /// <summary>The wire's non-finite spellings.</summary>
    public static double? ParseNamed(string? text) => text switch
    {
        "NaN" => double.NaN,
        "Infinity" => double.PositiveInfinity,
        "-Infinity" => double.NegativeInfinity,
        _ => null,
    };

    public static void WriteValue(Utf8JsonWriter writer, string property, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumber(property, value);
        }
        else
        {
            writer.WriteString(property, Format(value));
        }
    }

    public static void WriteValue(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(Format(value));
        }
    }

    /// <summary>A value as text (CSV): round-trippable, NaN/Infinity/-Infinity spelled as on the wire.</summary>
    public static string Format(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsPositiveInfinity(value) ? "Infinity" : double.IsNegativeInfinity(value) ? "-Infinity"
            : value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
