using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using static Pipeline.Edge.Sources.Http.Otlp.OtlpLogBatch;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// OTLP's <c>KeyValue</c> and <c>AnyValue</c> in OTLP/JSON, written as the JSON values they stand for (strings and
/// bytes copied as they came, numbers, booleans, arrays and maps, nested at most <see cref="OtlpLogBatch.MaxValueDepth"/>
/// levels), and the field readers that check each member's JSON kind before reading it; a value of the wrong kind
/// rejects its record alone (<see cref="OtlpRecordException"/>). Apart from <see cref="OtlpJsonLogs"/>, which reads
/// the request's containers, as <see cref="OtlpProtobufValues"/> is apart from <see cref="OtlpProtobufLogs"/>.
/// </summary>
internal static class OtlpJsonValues
{
    // What an absent (or null) list reads as.
    internal static readonly JsonElement None = JsonDocument.Parse("[]"u8.ToArray()).RootElement.Clone();

    internal static JsonElement WriteKeyValue(JsonElement pair, Utf8JsonWriter w, int depth, out ReadOnlySpan<byte> key)
    {
        if (pair.ValueKind != JsonValueKind.Object || !pair.TryGetProperty(OtlpWire.KeyValue.KeyJson, out var keyElement)
            || keyElement.ValueKind != JsonValueKind.String)
            throw new OtlpRecordException("an attribute must be an object with a string key");
        key = Unescaped(keyElement);
        w.WritePropertyName(key);
        if (pair.TryGetProperty(OtlpWire.KeyValue.ValueJson, out var value)) WriteAnyValue(value, w, depth);
        else w.WriteNullValue();
        return value;
    }

    /// <summary>Writes an AnyValue (<c>{"stringValue":…}</c>, <c>{"kvlistValue":{"values":[…]}}</c>…) as the JSON value it stands for; true for a string.</summary>
    internal static bool WriteAnyValue(JsonElement anyValue, Utf8JsonWriter w, int depth)
    {
        if (depth >= MaxValueDepth) throw new OtlpRecordException($"a value is nested more than {MaxValueDepth} levels deep");
        if (anyValue.ValueKind == JsonValueKind.Null)
        {
            w.WriteNullValue();
            return false;
        }
        if (anyValue.ValueKind != JsonValueKind.Object) throw new OtlpRecordException("a value must be an AnyValue object such as {\"stringValue\":\"…\"}");
        // A oneof: the last known member is the value.
        JsonProperty? chosen = null;
        foreach (var member in anyValue.EnumerateObject())
            if (IsAnyValueMember(member)) chosen = member;
        if (chosen is not { } property)
        {
            w.WriteNullValue();
            return false;
        }
        var value = property.Value;
        if (property.NameEquals(OtlpWire.AnyValue.StringJson))
        {
            w.WriteRawValue(JsonMarshal.GetRawUtf8Value(Kind(value, JsonValueKind.String, "stringValue")), skipInputValidation: true);
            return true;
        }
        if (property.NameEquals(OtlpWire.AnyValue.BoolJson))
        {
            if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new OtlpRecordException("boolValue must be true or false");
            w.WriteBooleanValue(value.ValueKind == JsonValueKind.True);
        }
        else if (property.NameEquals(OtlpWire.AnyValue.IntJson)) w.WriteNumberValue(Int64(value, "intValue"));
        else if (property.NameEquals(OtlpWire.AnyValue.DoubleJson)) OtlpProtobufValues.WriteDouble(w, Double(value));
        else if (property.NameEquals(OtlpWire.AnyValue.BytesJson))
            w.WriteRawValue(JsonMarshal.GetRawUtf8Value(Kind(value, JsonValueKind.String, "bytesValue")), skipInputValidation: true);
        else if (property.NameEquals(OtlpWire.AnyValue.ArrayJson))
        {
            w.WriteStartArray();
            foreach (var item in Values(value, "arrayValue")) WriteAnyValue(item, w, depth + 1);
            w.WriteEndArray();
        }
        else
        {
            w.WriteStartObject();
            foreach (var pair in Values(value, "kvlistValue")) WriteKeyValue(pair, w, depth + 1, out _);
            w.WriteEndObject();
        }
        return false;
    }

    private static bool IsAnyValueMember(JsonProperty member) =>
        member.NameEquals(OtlpWire.AnyValue.StringJson) || member.NameEquals(OtlpWire.AnyValue.BoolJson) || member.NameEquals(OtlpWire.AnyValue.IntJson)
        || member.NameEquals(OtlpWire.AnyValue.DoubleJson) || member.NameEquals(OtlpWire.AnyValue.BytesJson)
        || member.NameEquals(OtlpWire.AnyValue.ArrayJson) || member.NameEquals(OtlpWire.AnyValue.KeyValueListJson);

    /// <summary>The <c>values</c> array of an <c>ArrayValue</c> or <c>KeyValueList</c> (absent: none).</summary>
    private static JsonElement.ArrayEnumerator Values(JsonElement list, string what)
    {
        Kind(list, JsonValueKind.Object, what);
        if (!list.TryGetProperty(OtlpWire.AnyValue.ValuesJson, out var values) || values.ValueKind == JsonValueKind.Null) values = None;
        return Kind(values, JsonValueKind.Array, what + ".values").EnumerateArray();
    }

    private static long Int64(JsonElement value, string what)
    {
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number)) return number;
        // 64-bit integers come as strings in OTLP/JSON; numbers are accepted too.
        if (value.ValueKind == JsonValueKind.String && Utf8Parser.TryParse(Unescaped(value), out long parsed, out var used) && used == Unescaped(value).Length) return parsed;
        throw new OtlpRecordException($"{what} must be a 64-bit integer (a number or a decimal string)");
    }

    private static double Double(JsonElement value)
    {
        if (value.ValueKind == JsonValueKind.Number) return value.GetDouble();
        if (value.ValueKind == JsonValueKind.String)
        {
            var text = Unescaped(value);
            if (text.SequenceEqual("NaN"u8)) return double.NaN;
            if (text.SequenceEqual("Infinity"u8)) return double.PositiveInfinity;
            if (text.SequenceEqual("-Infinity"u8)) return double.NegativeInfinity;
            if (Utf8Parser.TryParse(text, out double parsed, out var used) && used == text.Length) return parsed;
        }
        throw new OtlpRecordException("doubleValue must be a number");
    }

    /// <summary>A fixed64 time or count (a number or a decimal string); 0 when absent.</summary>
    internal static ulong UInt64(JsonElement owner, ReadOnlySpan<byte> name)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return 0;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var number)) return number;
        if (value.ValueKind == JsonValueKind.String && Utf8Parser.TryParse(Unescaped(value), out ulong parsed, out var used) && used == Unescaped(value).Length) return parsed;
        throw new OtlpRecordException($"{Encoding.UTF8.GetString(name)} must be an unsigned 64-bit integer (a number or a decimal string)");
    }

    internal static void WriteCount(JsonElement owner, ReadOnlySpan<byte> name, Utf8JsonWriter w, JsonEncodedText payloadName)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt32(out var count))
            throw new OtlpRecordException($"{Encoding.UTF8.GetString(name)} must be an unsigned 32-bit integer");
        if (count > 0) w.WriteNumber(payloadName, count);
    }

    /// <summary>A trace or span id in hex (either case); written lower-case, or left out when it is not a valid id.</summary>
    internal static void WriteHexId(JsonElement owner, ReadOnlySpan<byte> name, Utf8JsonWriter w, JsonEncodedText payloadName, int length)
    {
        var hex = Text(owner, name);
        if (hex.Length != 2 * length) return;
        Span<byte> id = stackalloc byte[length];
        for (var i = 0; i < length; i++)
        {
            int high = HexDigit(hex[2 * i]), low = HexDigit(hex[2 * i + 1]);
            if (high < 0 || low < 0) return;
            id[i] = (byte)(high << 4 | low);
        }
        WriteId(w, payloadName, id, length);
    }

    private static int HexDigit(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };

    internal static void WriteString(JsonElement owner, ReadOnlySpan<byte> name, Utf8JsonWriter w, JsonEncodedText payloadName)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return;
        w.WritePropertyName(payloadName);
        w.WriteRawValue(JsonMarshal.GetRawUtf8Value(Kind(value, JsonValueKind.String, Encoding.UTF8.GetString(name))), skipInputValidation: true);
    }

    internal static void WriteSchemaUrl(JsonElement owner, Utf8JsonWriter w) => WriteString(owner, OtlpWire.Common.SchemaUrlJson, w, Names.SchemaUrl);

    /// <summary>A string member's text, unescaped; empty when absent or not a string.</summary>
    internal static ReadOnlySpan<byte> Text(JsonElement owner, ReadOnlySpan<byte> name) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Unescaped(value) : default;

    /// <summary>A JSON string's UTF-8 text: a slice of the body unless it has escapes.</summary>
    internal static ReadOnlySpan<byte> Unescaped(JsonElement text)
    {
        var raw = JsonMarshal.GetRawUtf8Value(text)[1..^1];
        return raw.Contains((byte)'\\') ? Encoding.UTF8.GetBytes(text.GetString()!) : raw;
    }

    private static JsonElement Kind(JsonElement value, JsonValueKind kind, string what) =>
        value.ValueKind == kind ? value : throw new OtlpRecordException($"{what} must be {Article(kind)}");

    private static string Article(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        _ => "a string",
    };
}
