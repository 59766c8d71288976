using System.Buffers;
using System.Text;

namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>
/// The stored form of a <see cref="SpaceSaving"/> sketch (the <c>sketch</c> column of <c>topk_windows</c>):
/// a version byte, then varints for capacity, total and entry count, then each entry as a UTF-8 key
/// (length-prefixed), count and error, in the sketch's order (counts ascending, ties in eviction order). Compact
/// (a 1,000-key sketch of host names is about 20 KiB) and exact: <see cref="Decode"/> rebuilds the same buckets,
/// so a restored sketch continues as the original. Counts ascending are also a valid min-heap, the order versions
/// before the buckets wrote and expect: either reads the other's sketches.
/// </summary>
internal static class SketchCodec
{
    private const byte Version = 1;
    private const int MaxVarint = 10;

    public static byte[] Encode(SpaceSaving sketch)
    {
        // One pass into a pooled buffer sized for the worst case (10 bytes a number), then one copy of what was
        // written: a checkpoint encodes every changed sketch, a thousand keys each. Keys are kept as UTF-8 already.
        var bound = 4 * MaxVarint + sketch.Count * (3 * MaxVarint) + sketch.KeyBytesLive;
        var buffer = ArrayPool<byte>.Shared.Rent(bound);
        try
        {
            var data = buffer.AsSpan();
            var at = 0;
            WriteVarint(data, ref at, Version);
            WriteVarint(data, ref at, (ulong)sketch.Capacity);
            WriteVarint(data, ref at, (ulong)sketch.Total);
            WriteVarint(data, ref at, (ulong)sketch.Count);
            for (var entry = sketch.FirstStored(); entry >= 0; entry = sketch.NextStored(entry))
            {
                var key = sketch.KeyOf(entry);
                WriteVarint(data, ref at, (ulong)key.Length);
                key.CopyTo(data[at..]);
                at += key.Length;
                WriteVarint(data, ref at, (ulong)sketch.CountOf(entry));
                WriteVarint(data, ref at, (ulong)sketch.ErrorOf(entry));
            }
            return data[..at].ToArray();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Reads a stored sketch; <paramref name="capacity"/> overrides the stored one when given.</summary>
    public static SpaceSaving Decode(ReadOnlySpan<byte> data, int? capacity = null)
    {
        var (storedCapacity, total, entries) = Read(data);
        return SpaceSaving.Restore(capacity ?? storedCapacity, total, entries);
    }

    /// <summary>The stored parts without building a sketch (for merging at query time).</summary>
    public static (int Capacity, long Total, List<SketchEntry> Entries) Read(ReadOnlySpan<byte> data)
    {
        var at = 0;
        var version = ReadVarint(data, ref at);
        if (version != Version) throw new InvalidDataException($"sketch format version {version} is not known");
        var capacity = checked((int)ReadVarint(data, ref at));
        var total = checked((long)ReadVarint(data, ref at));
        var count = checked((int)ReadVarint(data, ref at));
        if (count > capacity) throw new InvalidDataException("sketch holds more entries than its capacity");
        var entries = new List<SketchEntry>(count);
        for (var i = 0; i < count; i++)
        {
            var length = checked((int)ReadVarint(data, ref at));
            if (length > data.Length - at) throw new InvalidDataException("sketch entry runs past the end");
            var key = Encoding.UTF8.GetString(data.Slice(at, length));
            at += length;
            var c = checked((long)ReadVarint(data, ref at));
            var e = checked((long)ReadVarint(data, ref at));
            entries.Add(new SketchEntry(key, c, e));
        }
        return (capacity, total, entries);
    }

    private static void WriteVarint(Span<byte> data, ref int at, ulong value)
    {
        while (value >= 0x80)
        {
            data[at++] = (byte)(value | 0x80);
            value >>= 7;
        }
        data[at++] = (byte)value;
    }

    private static ulong ReadVarint(ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (at >= data.Length) throw new InvalidDataException("sketch ends inside a number");
            var b = data[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return value;
        }
        throw new InvalidDataException("sketch number is too long");
    }
}
