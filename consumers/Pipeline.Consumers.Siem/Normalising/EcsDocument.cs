using System.Globalization;
using System.Text.Json;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>
/// One event in Elastic Common Schema, held as dotted field names (<c>source.ip</c>) and written as nested
/// JSON. Keys are kept in ordinal order: all keys under one prefix are then adjacent, so nesting is a
/// single pass, and the same document always serialises to the same bytes (the archive hashes them).
/// Values are strings, longs, doubles, booleans, times, string arrays, string maps, or JSON copied as it is.
/// </summary>
internal sealed class EcsDocument
{
    private readonly SortedDictionary<string, object> _fields = new(StringComparer.Ordinal);

    public int Count => _fields.Count;

    public IEnumerable<KeyValuePair<string, object>> Fields => _fields;

    /// <summary>Sets a field; null or empty values are left out (ECS omits absent fields).</summary>
    public EcsDocument Set(string path, object? value)
    {
        switch (value)
        {
            case null:
            case string { Length: 0 }:
            case string[] { Length: 0 }:
                _fields.Remove(path);
                break;
            default:
                _fields[path] = value;
                break;
        }
        return this;
    }

    public object? Get(string path) => _fields.TryGetValue(path, out var value) ? value : null;

    /// <summary>A field as text (numbers formatted invariantly; arrays: their first value).</summary>
    public string? GetString(string path) => Get(path) switch
    {
        null => null,
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        DateTimeOffset t => FormatTime(t),
        string[] a => a.Length > 0 ? a[0] : null,
        JsonElement e => e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText(),
        var other => other.ToString(),
    };

    public static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Writes the document as one nested JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        // The object path currently open, as segments of the last key written; keys are walked as spans, so
        // a document costs a string only for each object it opens.
        var open = new List<string>(4);
        foreach (var (key, value) in _fields)
        {
            var path = key.AsSpan();
            var at = 0;
            var common = 0;
            while (common < open.Count)
            {
                var dot = path[at..].IndexOf('.');
                if (dot < 0 || !path.Slice(at, dot).SequenceEqual(open[common])) break;
                at += dot + 1;
                common++;
            }
            for (var i = open.Count; i > common; i--) writer.WriteEndObject();
            open.RemoveRange(common, open.Count - common);
            for (var dot = path[at..].IndexOf('.'); dot >= 0; dot = path[at..].IndexOf('.'))
            {
                var segment = path.Slice(at, dot);
                writer.WriteStartObject(segment);
                open.Add(segment.ToString());
                at += dot + 1;
            }
            writer.WritePropertyName(path[at..]);
            WriteValue(writer, value);
        }
        for (var i = open.Count; i > 0; i--) writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object value)
    {
        switch (value)
        {
            case string s: writer.WriteStringValue(s); break;
            case long l: writer.WriteNumberValue(l); break;
            case int i: writer.WriteNumberValue(i); break;
            // JSON has no NaN or infinities (a summary with no observations reports NaN): written as the strings .NET reads back.
            case double d when !double.IsFinite(d): writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity"); break;
            case double d: writer.WriteNumberValue(d); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case DateTimeOffset t: writer.WriteStringValue(FormatTime(t)); break;
            case string[] a:
                writer.WriteStartArray();
                foreach (var item in a) writer.WriteStringValue(item);
                writer.WriteEndArray();
                break;
            case IReadOnlyDictionary<string, string> map:
                writer.WriteStartObject();
                foreach (var (k, v) in map.OrderBy(p => p.Key, StringComparer.Ordinal)) writer.WriteString(k, v);
                writer.WriteEndObject();
                break;
            case IReadOnlyDictionary<string, Dictionary<string, string>> nested:
                writer.WriteStartObject();
                foreach (var (k, inner) in nested.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(k);
                    WriteValue(writer, (IReadOnlyDictionary<string, string>)inner);
                }
                writer.WriteEndObject();
                break;
            case JsonElement e: e.WriteTo(writer); break;
            default: throw new InvalidOperationException($"an ECS value of type {value.GetType().Name} cannot be written");
        }
    }
}
