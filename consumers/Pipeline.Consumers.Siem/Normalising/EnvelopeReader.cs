using System.Text.Json;
using Pipeline.Core.Envelope;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>
/// Reads a v1 envelope into a <see cref="TelemetryEvent"/> in one pass of a <see cref="Utf8JsonReader"/>, as the
/// codec would, for the envelopes the edge writes: every known field in its JSON type, each once, names unescaped.
/// Anything else — a field in another type, a null object, a name twice, an escaped name, a number where a string
/// belongs, no id, bytes that are not JSON — is handed to <see cref="EnvelopeCodec.Decode"/>, whose result (or
/// error) is the answer; so the envelope read is always the one the codec reads, only sooner (the codec's
/// serializer keeps a stack of frames per object and costs the sink about as much as normalising).
/// </summary>
internal static class EnvelopeReader
{
    /// <summary>The envelope in <paramref name="utf8Json"/>; throws <see cref="EnvelopeFormatException"/> on anything that is not one.</summary>
    public static TelemetryEvent Read(ReadOnlySpan<byte> utf8Json)
    {
        try
        {
            if (TryRead(utf8Json) is { } read) return read;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException)
        {
            // Not the common shape: the codec says what it is.
        }
        return EnvelopeCodec.Decode(utf8Json);
    }

    /// <summary>The envelope, or null when it is not in the common shape (the codec then decides).</summary>
    internal static TelemetryEvent? TryRead(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return null;
        var e = new TelemetryEvent();
        var seen = 0;
        while (Next(ref reader, ref seen, out var field))
        {
            switch (field)
            {
                case 0 when reader.TokenType == JsonTokenType.String: e.Id = reader.GetString()!; break;
                case 1 when reader.TokenType == JsonTokenType.String: e.ReceivedAt = reader.GetDateTimeOffset(); break;
                case 2 when reader.TokenType == JsonTokenType.String && Name(ref reader, out var kind): e.Kind = kind!; break;
                case 3 when ReadSource(ref reader) is { } source: e.Source = source; break;
                case 4 when Name(ref reader, out var tenant): e.Tenant = tenant; break;
                case 5 when Map(ref reader) is { } tags: e.Tags = tags; break;
                case 6 when reader.TokenType == JsonTokenType.Number: e.SampleRate = reader.GetInt32(); break;
                case 7 when ReadSyslog(ref reader) is { } syslog: e.Syslog = syslog; break;
                case 8 when Text(ref reader, out var message): e.Message = message; break;
                case 9 when reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray or JsonTokenType.String or JsonTokenType.Number
                    or JsonTokenType.True or JsonTokenType.False: e.Payload = JsonElement.ParseValue(ref reader); break;
                case 10 when ReadStream(ref reader) is { } stream: e.Stream = stream; break;
                case 11 when Text(ref reader, out var raw): e.Raw = raw; break;
                case 12 when Text(ref reader, out var rawBase64): e.RawBase64 = rawBase64; break;
                case 13 when Name(ref reader, out var status): e.ParseStatus = status; break;
                case 14 when Text(ref reader, out var error): e.ParseError = error; break;
                case 15 when reader.TokenType is JsonTokenType.True or JsonTokenType.False: e.Truncated = reader.GetBoolean(); break;
                case 16 when ReadMetric(ref reader) is { } metric: e.Metric = metric; break;
                case Unknown: reader.Skip(); break;
                default: return null;
            }
        }
        // The whole input is one object (the codec refuses trailing bytes), and it has an id.
        if (reader.Read() || string.IsNullOrEmpty(e.Id)) return null;
        return e;
    }

    private const int Unknown = -1;
    private const int Duplicate = -2;

    /// <summary>
    /// Moves to the next property's value; false at the object's end. <paramref name="field"/>: its index among
    /// the top-level names, <see cref="Unknown"/>, or <see cref="Duplicate"/> (and escaped names count as that too).
    /// </summary>
    private static bool Next(ref Utf8JsonReader reader, ref int seen, out int field)
    {
        field = Duplicate;
        if (!reader.Read() || reader.TokenType == JsonTokenType.EndObject) return false;
        if (reader.ValueIsEscaped) return Value(ref reader);
        var name = reader.ValueSpan;
        field = name.SequenceEqual(EnvelopeUtf8.Id) ? 0 : name.SequenceEqual(EnvelopeUtf8.ReceivedAt) ? 1 : name.SequenceEqual(EnvelopeUtf8.Kind) ? 2
            : name.SequenceEqual(EnvelopeUtf8.Source) ? 3 : name.SequenceEqual(EnvelopeUtf8.Tenant) ? 4 : name.SequenceEqual(EnvelopeUtf8.Tags) ? 5
            : name.SequenceEqual(EnvelopeUtf8.SampleRate) ? 6 : name.SequenceEqual(EnvelopeUtf8.Syslog) ? 7 : name.SequenceEqual(EnvelopeUtf8.Message) ? 8
            : name.SequenceEqual(EnvelopeUtf8.Payload) ? 9 : name.SequenceEqual(EnvelopeUtf8.Stream) ? 10 : name.SequenceEqual(EnvelopeUtf8.Raw) ? 11
            : name.SequenceEqual(EnvelopeUtf8.RawBase64) ? 12 : name.SequenceEqual(EnvelopeUtf8.ParseStatus) ? 13 : name.SequenceEqual(EnvelopeUtf8.ParseError) ? 14
            : name.SequenceEqual(EnvelopeUtf8.Truncated) ? 15 : name.SequenceEqual(EnvelopeUtf8.Metric) ? 16 : Unknown;
        if (field >= 0)
        {
            if ((seen & 1 << field) != 0) field = Duplicate;
            seen |= 1 << field;
        }
        return Value(ref reader);
    }

    private static bool Value(ref Utf8JsonReader reader) => reader.Read() ? true : throw new JsonException("truncated");

    /// <summary>A string or null; false for any other token. Short values come from <see cref="ShortText"/> (the same few names on every event).</summary>
    private static bool Name(ref Utf8JsonReader reader, out string? text)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped && reader.ValueSpan.Length <= ShortText.MaxLength)
        {
            // Made by the reader itself the first time (which refuses bytes that are not UTF-8, as the codec does).
            text = ShortText.Of(reader.ValueSpan, ref reader);
            return true;
        }
        return Text(ref reader, out text);
    }

    /// <summary>A string or null; false for any other token.</summary>
    private static bool Text(ref Utf8JsonReader reader, out string? text)
    {
        text = reader.TokenType is JsonTokenType.String or JsonTokenType.Null ? reader.GetString() : null;
        return reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
    }

    private static bool Int(ref Utf8JsonReader reader, out int? value)
    {
        value = reader.TokenType == JsonTokenType.Number ? reader.GetInt32() : null;
        return reader.TokenType is JsonTokenType.Number or JsonTokenType.Null;
    }

    private static bool Time(ref Utf8JsonReader reader, out DateTimeOffset? value)
    {
        value = reader.TokenType == JsonTokenType.String ? reader.GetDateTimeOffset() : null;
        return reader.TokenType is JsonTokenType.String or JsonTokenType.Null;
    }

    /// <summary>The fields of a nested object: each name's index among <paramref name="a"/> to <paramref name="d"/> (or <see cref="Unknown"/>), once each.</summary>
    private static bool NextIn(ref Utf8JsonReader reader, ref int seen, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, ReadOnlySpan<byte> c, ReadOnlySpan<byte> d,
        out int field)
    {
        field = Duplicate;
        if (!reader.Read() || reader.TokenType == JsonTokenType.EndObject) return false;
        if (reader.ValueIsEscaped) return Value(ref reader);
        var name = reader.ValueSpan;
        field = name.SequenceEqual(a) ? 0 : name.SequenceEqual(b) ? 1 : !c.IsEmpty && name.SequenceEqual(c) ? 2 : !d.IsEmpty && name.SequenceEqual(d) ? 3 : Unknown;
        if (field >= 0)
        {
            if ((seen & 1 << field) != 0) field = Duplicate;
            seen |= 1 << field;
        }
        return Value(ref reader);
    }

    private static EventSource? ReadSource(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        var source = new EventSource();
        var seen = 0;
        while (NextIn(ref reader, ref seen, EnvelopeUtf8.OfSource.Transport, EnvelopeUtf8.OfSource.Ip, EnvelopeUtf8.OfSource.Port, EnvelopeUtf8.OfSource.Edge, out var field))
        {
            switch (field)
            {
                case 0 when Name(ref reader, out var transport): source.Transport = transport!; break;
                case 1 when Name(ref reader, out var ip): source.Ip = ip; break;
                case 2 when Int(ref reader, out var port): source.Port = port; break;
                case 3 when Name(ref reader, out var edge): source.Edge = edge; break;
                case Unknown: reader.Skip(); break;
                default: return null;
            }
        }
        return source;
    }

    private static SyslogFields? ReadSyslog(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        var s = new SyslogFields();
        var seen = 0;
        while (true)
        {
            if (!reader.Read()) throw new JsonException("truncated");
            if (reader.TokenType == JsonTokenType.EndObject) return s;
            if (reader.ValueIsEscaped) return null;
            var name = reader.ValueSpan;
            var field = name.SequenceEqual(EnvelopeUtf8.OfSyslog.Facility) ? 0 : name.SequenceEqual(EnvelopeUtf8.OfSyslog.Severity) ? 1
                : name.SequenceEqual(EnvelopeUtf8.OfSyslog.Version) ? 2 : name.SequenceEqual(EnvelopeUtf8.OfSyslog.Timestamp) ? 3
                : name.SequenceEqual(EnvelopeUtf8.OfSyslog.Hostname) ? 4 : name.SequenceEqual(EnvelopeUtf8.OfSyslog.AppName) ? 5
                : name.SequenceEqual(EnvelopeUtf8.OfSyslog.Procid) ? 6 : name.SequenceEqual(EnvelopeUtf8.OfSyslog.Msgid) ? 7
                : name.SequenceEqual(EnvelopeUtf8.OfSyslog.StructuredData) ? 8 : name.SequenceEqual(EnvelopeUtf8.OfSyslog.Rfc) ? 9 : Unknown;
            if (field >= 0 && (seen & 1 << field) != 0) return null;
            if (field >= 0) seen |= 1 << field;
            Value(ref reader);
            switch (field)
            {
                case 0 when Int(ref reader, out var facility): s.Facility = facility; break;
                case 1 when Int(ref reader, out var severity): s.Severity = severity; break;
                case 2 when Int(ref reader, out var version): s.Version = version; break;
                case 3 when Time(ref reader, out var timestamp): s.Timestamp = timestamp; break;
                case 4 when Name(ref reader, out var hostname): s.Hostname = hostname; break;
                case 5 when Name(ref reader, out var appName): s.AppName = appName; break;
                case 6 when Text(ref reader, out var procid): s.Procid = procid; break;
                case 7 when Name(ref reader, out var msgid): s.Msgid = msgid; break;
                case 8 when reader.TokenType == JsonTokenType.StartObject:
                    var sd = new Dictionary<string, Dictionary<string, string>>();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var id = reader.GetString()!;
                        Value(ref reader);
                        if (Map(ref reader) is not { } parameters || !sd.TryAdd(id, parameters)) return null;
                    }
                    s.StructuredData = sd;
                    break;
                case 9 when Name(ref reader, out var rfc): s.Rfc = rfc; break;
                case Unknown: reader.Skip(); break;
                default: return null;
            }
        }
    }

    private static StreamInfo? ReadStream(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        var stream = new StreamInfo();
        var seen = 0;
        while (NextIn(ref reader, ref seen, EnvelopeUtf8.OfStream.Id, EnvelopeUtf8.OfStream.Headers, default, default, out var field))
        {
            switch (field)
            {
                case 0 when Text(ref reader, out var id): stream.Id = id; break;
                case 1 when Map(ref reader) is { } headers: stream.Headers = headers; break;
                case Unknown: reader.Skip(); break;
                default: return null;
            }
        }
        return stream;
    }

    private static MetricFields? ReadMetric(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        var m = new MetricFields();
        var seen = 0;
        while (true)
        {
            if (!reader.Read()) throw new JsonException("truncated");
            if (reader.TokenType == JsonTokenType.EndObject) return m;
            if (reader.ValueIsEscaped) return null;
            var name = reader.ValueSpan;
            var field = name.SequenceEqual(EnvelopeUtf8.OfMetric.Name) ? 0 : name.SequenceEqual(EnvelopeUtf8.OfMetric.Value) ? 1
                : name.SequenceEqual(EnvelopeUtf8.OfMetric.Type) ? 2 : name.SequenceEqual(EnvelopeUtf8.OfMetric.Family) ? 3
                : name.SequenceEqual(EnvelopeUtf8.OfMetric.Unit) ? 4 : name.SequenceEqual(EnvelopeUtf8.OfMetric.Labels) ? 5
                : name.SequenceEqual(EnvelopeUtf8.OfMetric.Timestamp) ? 6 : name.SequenceEqual(EnvelopeUtf8.OfMetric.Delta) ? 7 : Unknown;
            if (field >= 0 && (seen & 1 << field) != 0) return null;
            if (field >= 0) seen |= 1 << field;
            Value(ref reader);
            switch (field)
            {
                case 0 when Text(ref reader, out var metricName): m.Name = metricName!; break;
                case 1 when Double(ref reader) is { } value: m.Value = value; break;
                case 2 when Text(ref reader, out var type): m.Type = type!; break;
                case 3 when Text(ref reader, out var family): m.Family = family; break;
                case 4 when Text(ref reader, out var unit): m.Unit = unit; break;
                case 5 when Map(ref reader) is { } labels: m.Labels = labels; break;
                case 6 when Time(ref reader, out var timestamp): m.Timestamp = timestamp; break;
                case 7 when reader.TokenType == JsonTokenType.Null: m.Delta = null; break;
                case 7 when Double(ref reader) is { } delta: m.Delta = delta; break;
                case Unknown: reader.Skip(); break;
                default: return null;
            }
        }
    }

    /// <summary>A number, or NaN and the infinities as the codec reads them (named, in a string); null for anything else.</summary>
    private static double? Double(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.Number) return reader.GetDouble();
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped) return null;
        var text = reader.ValueSpan;
        return text.SequenceEqual("NaN"u8) ? double.NaN : text.SequenceEqual("Infinity"u8) ? double.PositiveInfinity
            : text.SequenceEqual("-Infinity"u8) ? double.NegativeInfinity : null;
    }

    /// <summary>An object of string values, each name once; null for anything else.</summary>
    private static Dictionary<string, string>? Map(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) return null;
        var map = new Dictionary<string, string>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString()!;
            Value(ref reader);
            if (reader.TokenType != JsonTokenType.String || !map.TryAdd(name, reader.GetString()!)) return null;
        }
        return map;
    }
}
