using System.Buffers.Text;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using static Pipeline.Edge.Sources.Http.Otlp.OtlpLogBatch;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// Reads an <c>ExportLogsServiceRequest</c> in OTLP/JSON (<c>application/json</c>) into an <see cref="OtlpLogBatch"/>:
/// lowerCamelCase names, trace and span ids in hex, 64-bit integers as strings or numbers, enums as integers,
/// unknown fields ignored. A body that is not JSON, or whose containers are not the OTLP shape, throws
/// <see cref="OtlpFormatException"/>; a record with a bad value (a time that is not a number, an enum given by
/// name) is rejected alone.
/// </summary>
internal static class OtlpJsonLogs
{
    // An AnyValue level is three JSON levels ({"kvlistValue":{"values":[{…}]}}); room for the values' own limit.
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 8 + 4 * MaxValueDepth };

    // What an absent (or null) list reads as.
    private static readonly JsonElement None = JsonDocument.Parse("[]"u8.ToArray()).RootElement.Clone();

    public static void Read(ReadOnlyMemory<byte> request, OtlpLogBatch batch)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(request, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw new OtlpFormatException("the body is not JSON: " + ex.Message);
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new OtlpFormatException("an ExportLogsServiceRequest is a JSON object");
            foreach (var resourceLogs in Array(root, OtlpWire.Request.ResourceLogsJson))
                ReadResourceLogs(Object(resourceLogs, "resourceLogs"), batch);
        }
    }

    private static void ReadResourceLogs(JsonElement resourceLogs, OtlpLogBatch batch)
    {
        string? unusable = null;
        try
        {
            WriteResource(resourceLogs, batch);
        }
        catch (OtlpRecordException ex)
        {
            // Every record carries its resource: without it, none of them can be kept.
            unusable = "their resource: " + ex.Message;
        }
        foreach (var scopeLogs in Array(resourceLogs, OtlpWire.ResourceLogs.ScopeLogsJson))
        {
            Object(scopeLogs, "scopeLogs");
            if (unusable is null) ReadScopeLogs(scopeLogs, batch);
            else batch.RejectRecords(Array(scopeLogs, OtlpWire.ScopeLogs.LogRecordsJson).Count(), unusable);
        }
    }

    private static void WriteResource(JsonElement resourceLogs, OtlpLogBatch batch)
    {
        var w = batch.BeginResource();
        if (resourceLogs.TryGetProperty(OtlpWire.ResourceLogs.ResourceJson, out var resource) && resource.ValueKind != JsonValueKind.Null)
        {
            Object(resource, "resource");
            WriteAttributes(resource, w, batch, Facts.Resource);
            WriteCount(resource, OtlpWire.Common.DroppedAttributesCountJson, w, Names.DroppedAttributesCount);
        }
        WriteSchemaUrl(resourceLogs, w);
        batch.EndResource();
    }

    private static void ReadScopeLogs(JsonElement scopeLogs, OtlpLogBatch batch)
    {
        try
        {
            WriteScope(scopeLogs, batch);
        }
        catch (OtlpRecordException ex)
        {
            batch.RejectRecords(Array(scopeLogs, OtlpWire.ScopeLogs.LogRecordsJson).Count(), "their scope: " + ex.Message);
            return;
        }
        foreach (var record in Array(scopeLogs, OtlpWire.ScopeLogs.LogRecordsJson))
        {
            Object(record, "logRecords");
            try
            {
                WriteRecord(record, batch);
            }
            catch (OtlpRecordException ex)
            {
                batch.RejectRecord(ex.Message);
            }
        }
    }

    private static void WriteScope(JsonElement scopeLogs, OtlpLogBatch batch)
    {
        var w = batch.BeginScope();
        if (scopeLogs.TryGetProperty(OtlpWire.ScopeLogs.ScopeJson, out var scope) && scope.ValueKind != JsonValueKind.Null)
        {
            Object(scope, "scope");
            WriteString(scope, OtlpWire.Scope.NameJson, w, Names.Name);
            WriteString(scope, OtlpWire.Scope.VersionJson, w, Names.Version);
            WriteAttributes(scope, w, batch, Facts.None);
            WriteCount(scope, OtlpWire.Common.DroppedAttributesCountJson, w, Names.DroppedAttributesCount);
        }
        WriteSchemaUrl(scopeLogs, w);
        batch.EndScope();
    }

    private static void WriteRecord(JsonElement record, OtlpLogBatch batch)
    {
        var w = batch.BeginRecord();
        WriteTime(w, Names.Time, UInt64(record, OtlpWire.LogRecord.TimeUnixNanoJson));
        WriteTime(w, Names.ObservedTime, UInt64(record, OtlpWire.LogRecord.ObservedTimeUnixNanoJson));
        var severity = record.TryGetProperty(OtlpWire.LogRecord.SeverityNumberJson, out var number) && number.ValueKind != JsonValueKind.Null
            ? number.ValueKind == JsonValueKind.Number && number.TryGetUInt32(out var n) ? n
                : throw new OtlpRecordException("severityNumber must be an integer (OTLP/JSON encodes enums as integers)")
            : 0;
        batch.Severity(severity, Text(record, OtlpWire.LogRecord.SeverityTextJson));
        if (record.TryGetProperty(OtlpWire.LogRecord.BodyJson, out var body))
        {
            batch.BeginBody();
            var isString = WriteAnyValue(body, w, 0);
            batch.EndBody(isString);
        }
        WriteAttributes(record, w, batch, Facts.Record);
        WriteCount(record, OtlpWire.Common.DroppedAttributesCountJson, w, Names.DroppedAttributesCount);
        WriteCount(record, OtlpWire.LogRecord.FlagsJson, w, Names.Flags);
        WriteHexId(record, OtlpWire.LogRecord.TraceIdJson, w, Names.TraceId, 16);
        WriteHexId(record, OtlpWire.LogRecord.SpanIdJson, w, Names.SpanId, 8);
        WriteString(record, OtlpWire.LogRecord.EventNameJson, w, Names.EventName);
        batch.EndRecord();
    }

    private enum Facts
    {
        None,
        Resource,
        Record,
    }

    private static void WriteAttributes(JsonElement owner, Utf8JsonWriter w, OtlpLogBatch batch, Facts facts)
    {
        if (!owner.TryGetProperty(OtlpWire.Common.AttributesJson, out var attributes) || attributes.ValueKind == JsonValueKind.Null) return;
        if (attributes.ValueKind != JsonValueKind.Array) throw new OtlpRecordException("attributes must be an array of {key, value}");
        if (attributes.GetArrayLength() == 0) return;
        w.WriteStartObject(Names.Attributes);
        foreach (var pair in attributes.EnumerateArray())
        {
            var value = WriteKeyValue(pair, w, 0, out var key);
            if (facts != Facts.None && value.ValueKind == JsonValueKind.Object && value.TryGetProperty(OtlpWire.AnyValue.StringJson, out var text)
                && text.ValueKind == JsonValueKind.String)
            {
                if (facts == Facts.Resource) batch.ResourceFacts(key, Unescaped(text));
                else batch.RecordFacts(key, Unescaped(text));
            }
        }
        w.WriteEndObject();
    }

    private static JsonElement WriteKeyValue(JsonElement pair, Utf8JsonWriter w, int depth, out ReadOnlySpan<byte> key)
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
    private static bool WriteAnyValue(JsonElement anyValue, Utf8JsonWriter w, int depth)
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
    private static ulong UInt64(JsonElement owner, ReadOnlySpan<byte> name)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return 0;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetUInt64(out var number)) return number;
        if (value.ValueKind == JsonValueKind.String && Utf8Parser.TryParse(Unescaped(value), out ulong parsed, out var used) && used == Unescaped(value).Length) return parsed;
        throw new OtlpRecordException($"{Encoding.UTF8.GetString(name)} must be an unsigned 64-bit integer (a number or a decimal string)");
    }

    private static void WriteCount(JsonElement owner, ReadOnlySpan<byte> name, Utf8JsonWriter w, JsonEncodedText payloadName)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetUInt32(out var count))
            throw new OtlpRecordException($"{Encoding.UTF8.GetString(name)} must be an unsigned 32-bit integer");
        if (count > 0) w.WriteNumber(payloadName, count);
    }

    /// <summary>A trace or span id in hex (either case); written lower-case, or left out when it is not a valid id.</summary>
    private static void WriteHexId(JsonElement owner, ReadOnlySpan<byte> name, Utf8JsonWriter w, JsonEncodedText payloadName, int length)
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

    private static void WriteString(JsonElement owner, ReadOnlySpan<byte> name, Utf8JsonWriter w, JsonEncodedText payloadName)
    {
        if (!owner.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return;
        w.WritePropertyName(payloadName);
        w.WriteRawValue(JsonMarshal.GetRawUtf8Value(Kind(value, JsonValueKind.String, Encoding.UTF8.GetString(name))), skipInputValidation: true);
    }

    private static void WriteSchemaUrl(JsonElement owner, Utf8JsonWriter w) => WriteString(owner, OtlpWire.Common.SchemaUrlJson, w, Names.SchemaUrl);

    /// <summary>A string member's text, unescaped; empty when absent or not a string.</summary>
    private static ReadOnlySpan<byte> Text(JsonElement owner, ReadOnlySpan<byte> name) =>
        owner.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? Unescaped(value) : default;

    /// <summary>A JSON string's UTF-8 text: a slice of the body unless it has escapes.</summary>
    private static ReadOnlySpan<byte> Unescaped(JsonElement text)
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

    /// <summary>The request's containers (resourceLogs, scopeLogs, logRecords) must have OTLP's shape, or nothing of it is kept.</summary>
    private static JsonElement.ArrayEnumerator Array(JsonElement owner, ReadOnlySpan<byte> name)
    {
        if (!owner.TryGetProperty(name, out var array) || array.ValueKind == JsonValueKind.Null) array = None;
        if (array.ValueKind != JsonValueKind.Array) throw new OtlpFormatException($"{Encoding.UTF8.GetString(name)} must be an array");
        return array.EnumerateArray();
    }

    private static JsonElement Object(JsonElement value, string what) =>
        value.ValueKind == JsonValueKind.Object ? value : throw new OtlpFormatException($"each of {what} must be an object");
}
