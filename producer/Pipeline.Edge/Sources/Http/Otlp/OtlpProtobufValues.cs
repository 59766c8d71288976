using System.Text.Json;
using Google.Protobuf;
using static Pipeline.Edge.Sources.Http.Otlp.OtlpLogBatch;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>
/// OTLP's <c>KeyValue</c> and <c>AnyValue</c> in binary protobuf, written as the JSON values they stand for
/// (strings, numbers, booleans, base64 bytes, arrays and maps, nested at most <see cref="OtlpLogBatch.MaxValueDepth"/>
/// levels), and the field readers that check each field's wire type before reading it.
/// </summary>
internal static class OtlpProtobufValues
{
    private const WireFormat.WireType Bytes = WireFormat.WireType.LengthDelimited;

    /// <summary>Writes one <c>KeyValue</c> as a property; returns its value's bytes.</summary>
    internal static ReadOnlySpan<byte> WriteKeyValue(ReadOnlySpan<byte> keyValue, Utf8JsonWriter w, int depth, out ReadOnlySpan<byte> key)
    {
        ReadOnlySpan<byte> value = default;
        key = default;
        var hasValue = false;
        var reader = new ProtoReader(keyValue);
        while (reader.Next(out var field, out var type))
        {
            if (field == OtlpWire.KeyValue.Key) key = Delimited(ref reader, type, field);
            else if (field == OtlpWire.KeyValue.Value)
            {
                value = Delimited(ref reader, type, field);
                hasValue = true;
            }
            else reader.Skip(type);
        }
        w.WritePropertyName(Utf8(key, "an attribute key"));
        if (hasValue) WriteAnyValue(value, w, depth);
        else w.WriteNullValue();
        return value;
    }

    /// <summary>Writes an <c>AnyValue</c> as the JSON value it stands for; true when it is a string.</summary>
    internal static bool WriteAnyValue(ReadOnlySpan<byte> anyValue, Utf8JsonWriter w, int depth)
    {
        if (depth >= MaxValueDepth) throw new OtlpRecordException($"a value is nested more than {MaxValueDepth} levels deep");
        // A oneof: the last of its fields on the wire is the value.
        var kind = 0;
        ulong scalar = 0;
        ReadOnlySpan<byte> content = default;
        var reader = new ProtoReader(anyValue);
        while (reader.Next(out var field, out var type))
        {
            switch (field)
            {
                case OtlpWire.AnyValue.String or OtlpWire.AnyValue.Array or OtlpWire.AnyValue.KeyValueList or OtlpWire.AnyValue.Bytes:
                    content = Delimited(ref reader, type, field);
                    break;
                case OtlpWire.AnyValue.Bool or OtlpWire.AnyValue.Int:
                    scalar = Varint(ref reader, type, field);
                    break;
                case OtlpWire.AnyValue.Double:
                    scalar = Fixed64(ref reader, type, field);
                    break;
                default:
                    reader.Skip(type);
                    continue;
            }
            kind = field;
        }
        switch (kind)
        {
            case OtlpWire.AnyValue.String:
                w.WriteStringValue(Utf8(content, "a string value"));
                return true;
            case OtlpWire.AnyValue.Bool: w.WriteBooleanValue(scalar != 0); break;
            case OtlpWire.AnyValue.Int: w.WriteNumberValue((long)scalar); break;
            case OtlpWire.AnyValue.Double: WriteDouble(w, BitConverter.UInt64BitsToDouble(scalar)); break;
            case OtlpWire.AnyValue.Bytes: w.WriteBase64StringValue(content); break;
            case OtlpWire.AnyValue.Array:
                w.WriteStartArray();
                var items = new ProtoReader(content);
                while (items.Next(out var field, out var type))
                {
                    if (field == OtlpWire.AnyValue.Values) WriteAnyValue(Delimited(ref items, type, field), w, depth + 1);
                    else items.Skip(type);
                }
                w.WriteEndArray();
                break;
            case OtlpWire.AnyValue.KeyValueList:
                w.WriteStartObject();
                var pairs = new ProtoReader(content);
                while (pairs.Next(out var field, out var type))
                {
                    if (field == OtlpWire.AnyValue.Values) WriteKeyValue(Delimited(ref pairs, type, field), w, depth + 1, out _);
                    else pairs.Skip(type);
                }
                w.WriteEndObject();
                break;
            default:
                // An empty AnyValue: OTLP's "no value".
                w.WriteNullValue();
                break;
        }
        return false;
    }

    /// <summary>JSON has no NaN or infinities: they are written as the strings protobuf's JSON mapping uses.</summary>
    public static void WriteDouble(Utf8JsonWriter w, double value)
    {
        if (double.IsFinite(value)) w.WriteNumberValue(value);
        else w.WriteStringValue(double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity");
    }

    /// <summary>The string inside an <c>AnyValue</c> that holds one (resource facts such as <c>service.name</c>).</summary>
    internal static bool TryString(ReadOnlySpan<byte> anyValue, out ReadOnlySpan<byte> text)
    {
        text = default;
        var found = false;
        var reader = new ProtoReader(anyValue);
        while (reader.Next(out var field, out var type))
        {
            if (field == OtlpWire.AnyValue.String && type == Bytes)
            {
                text = reader.ReadLengthDelimited();
                found = true;
            }
            else
            {
                reader.Skip(type);
                found = false;
            }
        }
        return found;
    }

    internal static ReadOnlySpan<byte> Utf8(ReadOnlySpan<byte> text, string what) =>
        System.Text.Unicode.Utf8.IsValid(text) ? text : throw new OtlpRecordException($"{what} is not valid UTF-8");

    internal static ulong Fixed64(scoped ref ProtoReader reader, WireFormat.WireType type, int field)
    {
        reader.Require(type, WireFormat.WireType.Fixed64, field);
        return reader.ReadFixed64();
    }

    internal static ulong Varint(scoped ref ProtoReader reader, WireFormat.WireType type, int field)
    {
        reader.Require(type, WireFormat.WireType.Varint, field);
        return reader.ReadVarint();
    }

    internal static ReadOnlySpan<byte> Delimited(scoped ref ProtoReader reader, WireFormat.WireType type, int field)
    {
        reader.Require(type, Bytes, field);
        return reader.ReadLengthDelimited();
    }
}
