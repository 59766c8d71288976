using System.Globalization;
using System.Text.Json;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>
/// One event in Elastic Common Schema, held as dotted field names (<c>source.ip</c>) and written as nested
/// JSON. Keys are written in ordinal order: all keys under one prefix are then adjacent, so nesting is a
/// single pass, and the same document always serialises to the same bytes (the archive hashes them).
/// Values are strings, longs, doubles, booleans, times, string arrays, string maps, or JSON copied as it is.
/// Fields are kept as a small array of entries (key, value without boxing) in the order they were set and
/// sorted by the keys' ranks (<see cref="EcsKey"/>) when written: a document costs two arrays, not a tree.
/// </summary>
internal sealed class EcsDocument
{
    private Entry[] _entries = new Entry[48];
    private int _count;

    public int Count => _count;

    /// <summary>Empties the document for the next event (a sink normalising one event at a time reuses one).</summary>
    public void Clear()
    {
        Array.Clear(_entries, 0, _count);
        _count = 0;
    }

    /// <summary>Sets a field; null or empty values are left out (ECS omits absent fields).</summary>
    public EcsDocument Set(string path, object? value) => Set(EcsKey.Of(path), value);

    /// <summary>Sets a field; null or empty values are left out (ECS omits absent fields).</summary>
    public EcsDocument Set(EcsKey key, object? value) => value switch
    {
        null => Remove(key),
        string s => Set(key, s),
        string[] a => Set(key, a),
        long l => Put(new Entry(key, Kind.Long, null, l)),
        int i => Put(new Entry(key, Kind.Long, null, i)),
        double d => Put(new Entry(key, Kind.Double, null, BitConverter.DoubleToInt64Bits(d))),
        bool b => Put(new Entry(key, Kind.Bool, null, b ? 1 : 0)),
        DateTimeOffset t => Set(key, t),
        _ => Put(new Entry(key, Kind.Object, value, 0)),
    };

    public EcsDocument Set(EcsKey key, string? value) => string.IsNullOrEmpty(value) ? Remove(key) : Put(new Entry(key, Kind.String, value, 0));

    public EcsDocument Set(EcsKey key, string[]? values) => values is null or { Length: 0 } ? Remove(key) : Put(new Entry(key, Kind.Strings, values, 0));

    public EcsDocument Set(EcsKey key, long value) => Put(new Entry(key, Kind.Long, null, value));

    public EcsDocument Set(EcsKey key, DateTimeOffset value) => Put(new Entry(key, Kind.Time, null, value.UtcTicks));

    public object? Get(string path) => Get(EcsKey.Of(path));

    public object? Get(EcsKey key) => Find(key) is var at and >= 0 ? _entries[at].Value : null;

    /// <summary>A time field, or null when the field is absent or no time.</summary>
    public DateTimeOffset? GetTime(EcsKey key) => Find(key) is var at and >= 0 && _entries[at].Kind == Kind.Time ? _entries[at].Time : null;

    /// <summary>A field as text (numbers formatted invariantly; arrays: their first value).</summary>
    public string? GetString(string path) => GetString(EcsKey.Of(path));

    /// <summary>A field as text (numbers formatted invariantly; arrays: their first value).</summary>
    public string? GetString(EcsKey key)
    {
        var at = Find(key);
        if (at < 0) return null;
        var entry = _entries[at];
        return entry.Kind switch
        {
            Kind.String => (string)entry.Ref!,
            Kind.Long => entry.Bits.ToString(CultureInfo.InvariantCulture),
            Kind.Double => BitConverter.Int64BitsToDouble(entry.Bits).ToString("R", CultureInfo.InvariantCulture),
            Kind.Bool => entry.Bits != 0 ? "true" : "false",
            Kind.Time => FormatTime(entry.Time),
            Kind.Strings => ((string[])entry.Ref!)[0],
            _ => entry.Ref is JsonElement e ? (e.ValueKind == JsonValueKind.String ? e.GetString() : e.GetRawText()) : entry.Ref!.ToString(),
        };
    }

    public static string FormatTime(DateTimeOffset t)
    {
        Span<byte> text = stackalloc byte[TimeLength];
        FormatTime(t, text);
        return System.Text.Encoding.ASCII.GetString(text);
    }

    private const int TimeLength = 27;

    /// <summary><c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c> in UTC, written digit by digit (no format string parsed per call).</summary>
    private static void FormatTime(DateTimeOffset t, Span<byte> text)
    {
        var utc = t.UtcDateTime;
        Digits(text[..4], utc.Year);
        text[4] = (byte)'-';
        Digits(text.Slice(5, 2), utc.Month);
        text[7] = (byte)'-';
        Digits(text.Slice(8, 2), utc.Day);
        text[10] = (byte)'T';
        Digits(text.Slice(11, 2), utc.Hour);
        text[13] = (byte)':';
        Digits(text.Slice(14, 2), utc.Minute);
        text[16] = (byte)':';
        Digits(text.Slice(17, 2), utc.Second);
        text[19] = (byte)'.';
        Digits(text.Slice(20, 6), (int)(utc.Ticks % TimeSpan.TicksPerSecond / 10));
        text[26] = (byte)'Z';

        static void Digits(Span<byte> into, int value)
        {
            for (var i = into.Length - 1; i >= 0; i--)
            {
                into[i] = (byte)('0' + value % 10);
                value /= 10;
            }
        }
    }

    /// <summary>Writes the document as one nested JSON object.</summary>
    public void WriteTo(Utf8JsonWriter writer)
    {
        var ranks = EcsKey.Ranks;
        var entries = _entries;
        var count = _count;
        // Sorted as integers (rank and place in one), not by moving the entries, which hold references.
        Span<long> order = count <= 128 ? stackalloc long[count] : new long[count];
        for (var i = 0; i < count; i++) order[i] = (long)ranks[entries[i].Key.Id] << 32 | (uint)i;
        order.Sort();

        writer.WriteStartObject();
        // The object path open now: the previous key's segments (all but its last), compared by reference.
        EcsSegment[] open = [];
        var depth = 0;
        foreach (var ranked in order)
        {
            ref readonly var entry = ref entries[(int)ranked];
            var path = entry.Key.Path;
            var common = 0;
            while (common < depth && common < path.Length - 1 && ReferenceEquals(open[common], path[common])) common++;
            for (var d = depth; d > common; d--) writer.WriteEndObject();
            for (var d = common; d < path.Length - 1; d++) writer.WriteStartObject(path[d].Name);
            open = path;
            depth = path.Length - 1;
            writer.WritePropertyName(path[^1].Name);
            WriteValue(writer, entry);
        }
        for (var d = depth; d > 0; d--) writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, in Entry entry)
    {
        switch (entry.Kind)
        {
            case Kind.String: writer.WriteStringValue((string)entry.Ref!); break;
            case Kind.Long: writer.WriteNumberValue(entry.Bits); break;
            case Kind.Bool: writer.WriteBooleanValue(entry.Bits != 0); break;
            case Kind.Double:
                var d = BitConverter.Int64BitsToDouble(entry.Bits);
                // JSON has no NaN or infinities (a summary with no observations reports NaN): written as the strings .NET reads back.
                if (double.IsFinite(d)) writer.WriteNumberValue(d);
                else writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                break;
            case Kind.Time:
                Span<byte> text = stackalloc byte[TimeLength];
                FormatTime(entry.Time, text);
                writer.WriteStringValue(text);
                break;
            case Kind.Strings:
                writer.WriteStartArray();
                foreach (var item in (string[])entry.Ref!) writer.WriteStringValue(item);
                writer.WriteEndArray();
                break;
            default: WriteObject(writer, entry.Ref!); break;
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, object value)
    {
        switch (value)
        {
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
                    WriteObject(writer, (IReadOnlyDictionary<string, string>)inner);
                }
                writer.WriteEndObject();
                break;
            case JsonElement e: e.WriteTo(writer); break;
            default: throw new InvalidOperationException($"an ECS value of type {value.GetType().Name} cannot be written");
        }
    }

    private int Find(EcsKey key)
    {
        var entries = _entries;
        for (var i = 0; i < _count; i++)
            if (ReferenceEquals(entries[i].Key, key)) return i;
        return -1;
    }

    private EcsDocument Put(in Entry entry)
    {
        var at = Find(entry.Key);
        if (at >= 0)
        {
            _entries[at] = entry;
            return this;
        }
        if (_count == _entries.Length) Array.Resize(ref _entries, _count * 2);
        _entries[_count++] = entry;
        return this;
    }

    private EcsDocument Remove(EcsKey key)
    {
        var at = Find(key);
        if (at < 0) return this;
        Array.Copy(_entries, at + 1, _entries, at, _count - at - 1);
        _entries[--_count] = default;
        return this;
    }

    private enum Kind : byte { String, Long, Double, Bool, Time, Strings, Object }

    private readonly record struct Entry(EcsKey Key, Kind Kind, object? Ref, long Bits)
    {
        public DateTimeOffset Time => new(Bits, TimeSpan.Zero);

        /// <summary>The value as the caller set it (numbers as long or double, times as UTC <see cref="DateTimeOffset"/>).</summary>
        public object? Value => Kind switch
        {
            Kind.Long => Bits,
            Kind.Double => BitConverter.Int64BitsToDouble(Bits),
            Kind.Bool => Bits != 0,
            Kind.Time => Time,
            _ => Ref,
        };
    }
}
