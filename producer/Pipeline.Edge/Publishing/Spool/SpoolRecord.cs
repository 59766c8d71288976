using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Pipeline.Edge.Publishing.Spool;

/// <summary>One spooled event: where it goes and whose ledger it belongs to.</summary>
internal sealed record SpoolRecord(string Listener, string Route, string Topic, byte[]? Key, byte[] Value)
{
    public SpoolEntry AsEntry() => new(Listener, Route, Topic, Key, Key is not null, Value);
}

/// <summary>A record to append, over borrowed bytes (the edge's envelope buffer, or a delivery report's message).</summary>
internal readonly ref struct SpoolEntry(string listener, string route, string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value)
{
    public string Listener { get; } = listener;
    public string Route { get; } = route;
    public string Topic { get; } = topic;
    public ReadOnlySpan<byte> Key { get; } = key;
    public bool HasKey { get; } = hasKey;
    public ReadOnlySpan<byte> Value { get; } = value;
}

/// <summary>Where a record sits in the spool: its segment and its index within the segment.</summary>
internal readonly record struct SpoolPosition(long Segment, int Index);

/// <summary>
/// The on-disk form of a record, little-endian:
/// <c>magic u32 | body length u32 | CRC-32C of body u32 | body</c>, where body is
/// <c>listener (u8 len + bytes) | route (u8 len + bytes) | topic (u16 len + bytes) | key (i32 len, -1 for none, + bytes) | value (rest)</c>.
/// The magic lets recovery find the next record after damaged bytes; the checksum tells a torn or
/// flipped record from a good one.
/// </summary>
internal static class SpoolRecordFormat
{
    public const uint Magic = 0x314C5053; // "SPL1"
    public const int HeaderBytes = 12;
    public const int MaxBodyBytes = 64 * 1024 * 1024;

    public static int SizeOf(in SpoolEntry r) =>
        HeaderBytes + 1 + Encoding.UTF8.GetByteCount(r.Listener) + 1 + Encoding.UTF8.GetByteCount(r.Route)
        + 2 + Encoding.UTF8.GetByteCount(r.Topic) + 4 + r.Key.Length + r.Value.Length;

    /// <summary>Writes the record into <paramref name="destination"/> (exactly <see cref="SizeOf"/> bytes).</summary>
    public static int Write(in SpoolEntry r, Span<byte> destination)
    {
        var body = destination[HeaderBytes..];
        var at = 0;
        at += WriteShortString(body[at..], r.Listener, 1);
        at += WriteShortString(body[at..], r.Route, 1);
        at += WriteShortString(body[at..], r.Topic, 2);
        BinaryPrimitives.WriteInt32LittleEndian(body[at..], r.HasKey ? r.Key.Length : -1);
        at += 4;
        r.Key.CopyTo(body[at..]);
        at += r.Key.Length;
        r.Value.CopyTo(body[at..]);
        at += r.Value.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)at);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Crc32C(body[..at]));
        return HeaderBytes + at;
    }

    /// <summary>What is at the front of <paramref name="data"/>.</summary>
    public static ReadResult TryRead(ReadOnlySpan<byte> data, out SpoolRecord? record, out int length)
    {
        record = null;
        length = 0;
        if (data.Length < HeaderBytes) return ReadResult.Incomplete;
        if (BinaryPrimitives.ReadUInt32LittleEndian(data) != Magic) return ReadResult.Damaged;
        var bodyLength = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
        if (bodyLength is < 12 or > MaxBodyBytes) return ReadResult.Damaged;
        if (data.Length < HeaderBytes + bodyLength) return ReadResult.Incomplete;
        var body = data.Slice(HeaderBytes, (int)bodyLength);
        if (Crc32C(body) != BinaryPrimitives.ReadUInt32LittleEndian(data[8..])) return ReadResult.Damaged;
        try
        {
            var at = 0;
            var listener = ReadShortString(body, ref at, 1);
            var route = ReadShortString(body, ref at, 1);
            var topic = ReadShortString(body, ref at, 2);
            var keyLength = BinaryPrimitives.ReadInt32LittleEndian(body[at..]);
            at += 4;
            byte[]? key = null;
            if (keyLength >= 0)
            {
                key = body.Slice(at, keyLength).ToArray();
                at += keyLength;
            }
            record = new SpoolRecord(listener, route, topic, key, body[at..].ToArray());
        }
        catch (ArgumentOutOfRangeException)
        {
            // A checksum collision on garbage: treat as damage, never as a crash.
            return ReadResult.Damaged;
        }
        length = HeaderBytes + (int)bodyLength;
        return ReadResult.Record;
    }

    /// <summary>CRC-32C (Castagnoli), hardware-accelerated where the CPU has it.</summary>
    // Compiled optimized at once: a tight loop gains nothing from tiering, and the spool path is taken in bursts.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data) crc = BitOperations.Crc32C(crc, b);
        return ~crc;
    }

    private static int WriteShortString(Span<byte> destination, string value, int lengthBytes)
    {
        var count = Encoding.UTF8.GetBytes(value, destination[lengthBytes..]);
        if (lengthBytes == 1) destination[0] = checked((byte)count);
        else BinaryPrimitives.WriteUInt16LittleEndian(destination, checked((ushort)count));
        return lengthBytes + count;
    }

    private static string ReadShortString(ReadOnlySpan<byte> body, ref int at, int lengthBytes)
    {
        var count = lengthBytes == 1 ? body[at] : BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
        at += lengthBytes;
        var text = Encoding.UTF8.GetString(body.Slice(at, count));
        at += count;
        return text;
    }
}

internal enum ReadResult
{
    Record,
    /// <summary>The bytes end before the record does (a torn tail, or the writer is mid-append).</summary>
    Incomplete,
    /// <summary>Not a valid record here: no magic, an impossible length, or a checksum mismatch.</summary>
    Damaged,
}
