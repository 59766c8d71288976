using Google.Protobuf;

namespace Pipeline.Edge.Sources.Http.Otlp;

/// <summary>A request body that is not well-formed protobuf, or not an OTLP message: the whole request is refused (400).</summary>
internal sealed class OtlpFormatException(string message) : Exception(message);

/// <summary>
/// Reads protobuf wire format (varints, fixed 32/64, length-delimited fields) over a span, field by field,
/// with tags split by Google.Protobuf's <see cref="WireFormat"/>.
/// </summary>
/// <remarks>
/// Written here rather than reading with <see cref="CodedInputStream"/> because the envelope needs what that
/// class does not give: a string or bytes field as a slice of the request (it allocates a string or a
/// <see cref="ByteString"/> per field) and going back to an earlier field (a ResourceLogs may carry its
/// resource after its log records, and each record's envelope needs the resource). The wire format itself is
/// five rules; everything OTLP-specific (which field is which) is in <see cref="OtlpWire"/>.
/// </remarks>
internal ref struct ProtoReader(ReadOnlySpan<byte> message)
{
    private readonly ReadOnlySpan<byte> _message = message;
    private int _position;

    /// <summary>The next field's number and wire type; false at the end of the message.</summary>
    public bool Next(out int field, out WireFormat.WireType type)
    {
        if (_position >= _message.Length)
        {
            field = 0;
            type = default;
            return false;
        }
        var tag = ReadVarint();
        if (tag > uint.MaxValue) throw new OtlpFormatException("a field tag is out of range");
        field = WireFormat.GetTagFieldNumber((uint)tag);
        type = WireFormat.GetTagWireType((uint)tag);
        if (field == 0) throw new OtlpFormatException("a field has number 0");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (_position >= _message.Length) throw new OtlpFormatException("a varint runs past the end of its message");
            var b = _message[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
        }
        throw new OtlpFormatException("a varint is longer than 10 bytes");
    }

    public ulong ReadFixed64() => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    public uint ReadFixed32() => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>A length-delimited field's content (a string, bytes or a nested message), as a slice of the message.</summary>
    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        if (length > (ulong)(_message.Length - _position)) throw new OtlpFormatException("a length-delimited field runs past the end of its message");
        return Take((int)length);
    }

    /// <summary>Checks that a known field came with the wire type OTLP gives it (a mismatch means the body is not OTLP).</summary>
    public readonly void Require(WireFormat.WireType type, WireFormat.WireType expected, int field)
    {
        if (type != expected) throw new OtlpFormatException($"field {field} has wire type {type}, expected {expected}");
    }

    /// <summary>Skips a field this reader does not use (unknown fields are ignored, as protobuf requires).</summary>
    public void Skip(WireFormat.WireType type)
    {
        switch (type)
        {
            case WireFormat.WireType.Varint: ReadVarint(); break;
            case WireFormat.WireType.Fixed64: Take(8); break;
            case WireFormat.WireType.LengthDelimited: ReadLengthDelimited(); break;
            case WireFormat.WireType.Fixed32: Take(4); break;
            // Groups were never part of proto3, which OTLP is.
            default: throw new OtlpFormatException($"wire type {type} is not used by OTLP");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (_message.Length - _position < count) throw new OtlpFormatException("a field runs past the end of its message");
        var slice = _message.Slice(_position, count);
        _position += count;
        return slice;
    }
}
