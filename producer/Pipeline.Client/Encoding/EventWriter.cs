using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text.Json;
using Pipeline.Client.Delivery;
using Pipeline.Client.Ids;

namespace Pipeline.Client.Encoding;

/// <summary>What every event of one client carries: its application and host, encoded once.</summary>
internal sealed class ClientIdentity(string app, string host)
{
    public JsonEncodedText App { get; } = JsonEncodedText.Encode(app);
    public JsonEncodedText Host { get; } = JsonEncodedText.Encode(host);
}

/// <summary>
/// Writes one event as the JSON object the edge takes (<c>id</c>, <c>time</c>, <c>kind</c>, <c>app</c>, <c>host</c>, then
/// the kind's own members and <c>fields</c>) into the calling thread's reused buffer, then copies it into a pooled
/// buffer for the queue. Events and metrics are written on the application's thread; log entries on the delivery task.
/// </summary>
internal sealed class EventWriter
{
    // Nesting of collections inside a field value, at most; deeper values are written as text.
    private const int MaxValueDepth = 4;
    // Items of a collection written, at most; a longer one ends with "…".
    private const int MaxItems = 256;

    [ThreadStatic] private static EventWriter? t_current;

    private readonly ArrayBufferWriter<byte> _buffer = new(512);
    private readonly Utf8JsonWriter _json;
    private readonly HashSet<string> _fieldNames = new(StringComparer.Ordinal);

    private EventWriter() =>
        _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    public static EventWriter ForCurrentThread => t_current ??= new EventWriter();

    public Utf8JsonWriter Json => _json;

    /// <summary>Starts an event: a new id minted for <paramref name="time"/> (kept if the event is ever sent again), and the common members.</summary>
    public Utf8JsonWriter Begin(string kind, DateTimeOffset time, ClientIdentity identity)
    {
        _buffer.ResetWrittenCount();
        _json.Reset(_buffer);
        _fieldNames.Clear();
        Span<byte> id = stackalloc byte[Ulid.Length];
        Ulid.Write(time, id);
        var w = _json;
        w.WriteStartObject();
        w.WriteString(Names.Id, id);
        w.WriteString(Names.Time, time);
        w.WriteString(Names.Kind, kind);
        w.WriteString(Names.App, identity.App);
        w.WriteString(Names.Host, identity.Host);
        return w;
    }

    /// <summary>Ends the event and copies it out; null when it is larger than <paramref name="maxBytes"/>.</summary>
    public EncodedEvent? End(int maxBytes)
    {
        _json.WriteEndObject();
        _json.Flush();
        var written = _buffer.WrittenSpan;
        if (written.Length > maxBytes) return null;
        var copy = ArrayPool<byte>.Shared.Rent(written.Length);
        written.CopyTo(copy);
        return new EncodedEvent(copy, written.Length);
    }

    /// <summary>Starts the <c>fields</c> object; <see cref="Field"/> writes into it.</summary>
    public void BeginFields() => _json.WriteStartObject(Names.Fields);

    public void EndFields() => _json.WriteEndObject();

    /// <summary>Writes a field unless one of that name was written already (the first, most specific one wins).</summary>
    public void Field(string name, object? value)
    {
        if (!_fieldNames.Add(name)) return;
        _json.WritePropertyName(name);
        WriteValue(_json, value, 0);
    }

    /// <summary>A field value as the JSON it naturally is; anything else as its text.</summary>
    public static void WriteValue(Utf8JsonWriter w, object? value, int depth)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case bool b: w.WriteBooleanValue(b); break;
            case int i: w.WriteNumberValue(i); break;
            case long l: w.WriteNumberValue(l); break;
            case double d: WriteDouble(w, d); break;
            case float f: WriteDouble(w, f); break;
            case decimal m: w.WriteNumberValue(m); break;
            case short s16: w.WriteNumberValue(s16); break;
            case byte u8: w.WriteNumberValue(u8); break;
            case sbyte s8: w.WriteNumberValue(s8); break;
            case ushort u16: w.WriteNumberValue(u16); break;
            case uint u32: w.WriteNumberValue(u32); break;
            case ulong u64: w.WriteNumberValue(u64); break;
            case DateTimeOffset dto: w.WriteStringValue(dto); break;
            case DateTime dt: w.WriteStringValue(dt); break;
            case Guid g: w.WriteStringValue(g); break;
            case TimeSpan ts: w.WriteStringValue(ts.ToString("c", CultureInfo.InvariantCulture)); break;
            case Enum e: w.WriteStringValue(e.ToString()); break;
            case byte[] bytes: w.WriteBase64StringValue(bytes); break;
            case IEnumerable<KeyValuePair<string, object?>> pairs when depth < MaxValueDepth:
                w.WriteStartObject();
                var n = 0;
                foreach (var (key, item) in pairs)
                {
                    if (++n > MaxItems) break;
                    w.WritePropertyName(key);
                    WriteValue(w, item, depth + 1);
                }
                w.WriteEndObject();
                break;
            case IEnumerable items when depth < MaxValueDepth:
                w.WriteStartArray();
                var count = 0;
                foreach (var item in items)
                {
                    if (++count > MaxItems)
                    {
                        w.WriteStringValue("…");
                        break;
                    }
                    WriteValue(w, item, depth + 1);
                }
                w.WriteEndArray();
                break;
            case IFormattable formattable: w.WriteStringValue(formattable.ToString(null, CultureInfo.InvariantCulture)); break;
            default: w.WriteStringValue(value.ToString()); break;
        }
    }

    // JSON has no NaN or infinities.
    private static void WriteDouble(Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value)) w.WriteNumberValue(value);
        else w.WriteStringValue(value.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Member names, encoded once; the edge reads <c>id</c>, <c>kind</c>, <c>app</c>, <c>host</c>, <c>level</c>, <c>message</c>, <c>sample_rate</c> and the metric members.</summary>
    public static class Names
    {
        public static readonly JsonEncodedText Id = JsonEncodedText.Encode("id");
        public static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
        public static readonly JsonEncodedText Kind = JsonEncodedText.Encode("kind");
        public static readonly JsonEncodedText App = JsonEncodedText.Encode("app");
        public static readonly JsonEncodedText Host = JsonEncodedText.Encode("host");
        public static readonly JsonEncodedText Fields = JsonEncodedText.Encode("fields");
        public static readonly JsonEncodedText Level = JsonEncodedText.Encode("level");
        public static readonly JsonEncodedText Category = JsonEncodedText.Encode("category");
        public static readonly JsonEncodedText EventId = JsonEncodedText.Encode("event_id");
        public static readonly JsonEncodedText EventName = JsonEncodedText.Encode("event_name");
        public static readonly JsonEncodedText Message = JsonEncodedText.Encode("message");
        public static readonly JsonEncodedText MessageTemplate = JsonEncodedText.Encode("message_template");
        public static readonly JsonEncodedText Scopes = JsonEncodedText.Encode("scopes");
        public static readonly JsonEncodedText Exception = JsonEncodedText.Encode("exception");
        public static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
        public static readonly JsonEncodedText Detail = JsonEncodedText.Encode("detail");
        public static readonly JsonEncodedText Dataset = JsonEncodedText.Encode("dataset");
        public static readonly JsonEncodedText SampleRate = JsonEncodedText.Encode("sample_rate");
        public static readonly JsonEncodedText DurationMs = JsonEncodedText.Encode("dur_ms");
        public static readonly JsonEncodedText MetricName = JsonEncodedText.Encode("metric_name");
        public static readonly JsonEncodedText MetricValue = JsonEncodedText.Encode("metric_value");
        public static readonly JsonEncodedText MetricType = JsonEncodedText.Encode("metric_type");
    }
}
