using System.Text.Json;
using System.Text.Json.Serialization;

namespace Platform.Api.Live;

/// <summary>
/// The points of one series as they travel to boards: <c>[[step, atMs, value], ...]</c>, the value a number or one of
/// "NaN", "Infinity", "-Infinity" (JSON has no non-finite numbers). Parallel arrays, appended to while pending.
/// </summary>
[JsonConverter(typeof(SeriesPointsConverter))]
public sealed class SeriesPoints
{
    private long[] steps;
    private long[] atMs;
    private double[] values;

    public SeriesPoints(int capacity = 16)
    {
        capacity = Math.Max(capacity, 1);
        steps = new long[capacity];
        atMs = new long[capacity];
        values = new double[capacity];
    }

    public int Count { get; private set; }

    public long Step(int i) => steps[i];

    public long AtMs(int i) => atMs[i];

    public double Value(int i) => values[i];

    public void Add(long step, long at, double value)
    {
        if (Count == steps.Length)
        {
            var size = steps.Length * 2;
            Array.Resize(ref steps, size);
            Array.Resize(ref atMs, size);
            Array.Resize(ref values, size);
        }

        steps[Count] = step;
        atMs[Count] = at;
        values[Count] = value;
        Count++;
    }

    public void AddRange(long[] s, long[] a, double[] v)
    {
        for (var i = 0; i < s.Length; i++)
        {
            Add(s[i], a[i], v[i]);
        }
    }

    /// <summary>Points [offset, offset + count) as a new instance (a message's share of a large pending buffer).</summary>
    public SeriesPoints Slice(int offset, int count)
    {
        var slice = new SeriesPoints(count);
        Array.Copy(steps, offset, slice.steps, 0, count);
        Array.Copy(atMs, offset, slice.atMs, 0, count);
        Array.Copy(values, offset, slice.values, 0, count);
        slice.Count = count;
        return slice;
    }

    public static void WriteValue(Utf8JsonWriter writer, double value)
    {
        if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
        }
    }

    public static double ReadValue(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? value.GetString() switch
        {
            "Infinity" => double.PositiveInfinity,
            "-Infinity" => double.NegativeInfinity,
            _ => double.NaN,
        }
        : value.GetDouble();

    internal void WriteRows(Utf8JsonWriter writer)
    {
        writer.WriteStartArray();
        for (var i = 0; i < Count; i++)
        {
            writer.WriteStartArray();
            writer.WriteNumberValue(steps[i]);
            writer.WriteNumberValue(atMs[i]);
            WriteValue(writer, values[i]);
            writer.WriteEndArray();
        }

        writer.WriteEndArray();
    }
}

public sealed class SeriesPointsConverter : JsonConverter<SeriesPoints>
{
    public override SeriesPoints Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        var points = new SeriesPoints(document.RootElement.GetArrayLength());
        foreach (var row in document.RootElement.EnumerateArray())
        {
            points.Add(row[0].GetInt64(), row[1].GetInt64(), SeriesPoints.ReadValue(row[2]));
        }

        return points;
    }

    public override void Write(Utf8JsonWriter writer, SeriesPoints value, JsonSerializerOptions options) => value.WriteRows(writer);
}

/// <summary>"Points": new points of a run, per series, in step order; coalesced per run per frame.</summary>
public sealed record RunPoints(Guid RunId, IReadOnlyDictionary<string, SeriesPoints> Series);

/// <summary>
/// What <c>SubscribeRun</c> answers: the points newer than the steps the client had, at most
/// <see cref="MetricsLive.CatchUpLimit"/>; <see cref="Complete"/> false means more exist (the board reloads them through REST).
/// </summary>
public sealed record RunCatchUp(Guid RunId, IReadOnlyDictionary<string, SeriesPoints> Series, bool Complete);

public sealed record RunGraphUpdate(string Title, IReadOnlyList<string> Series, int Position);

/// <summary>"RunUpdated": a run's state and counters after NOTIFY runs; <see cref="Deleted"/> once it is gone.</summary>
public sealed record RunUpdate(Guid RunId, string State, long PointCount, long Dropped, IReadOnlyList<RunGraphUpdate> Graphs, bool Deleted);
