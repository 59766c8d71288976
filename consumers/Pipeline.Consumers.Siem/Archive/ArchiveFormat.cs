using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// The archive's on-disk format. Each segment (<c>segment-000001.ndjson</c>) holds one record per line:
/// <code>{"seq":N,"prev":"&lt;hex H(N-1)&gt;","type":"event"|"alert",["topic":T,"partition":P,"offset":O,]"doc":{ECS},"hash":"&lt;hex H(N)&gt;"}</code>
/// <c>seq</c> counts records across the whole archive from 1. The hash chain:
/// <c>H(N) = SHA-256( H(N-1) as 32 raw bytes ‖ C(N) )</c>, where <c>C(N)</c> is the line's UTF-8 bytes with
/// the final <c>,"hash":"…"</c> member cut out (i.e. the same JSON object without its hash), and
/// <c>H(0)</c> is 32 zero bytes. The chain runs on across segments, so editing, deleting, inserting or
/// reordering any record, or dropping a whole segment, breaks it at that point.
/// </summary>
internal static class ArchiveFormat
{
    public const string SegmentPrefix = "segment-";
    public const string SegmentSuffix = ".ndjson";
    public const string ManifestSuffix = ".manifest.json";
    public const string CheckpointFile = "checkpoint.json";
    public const string CursorsFolder = "cursors";
    public const string LockFile = ".lock";
    public const string EventType = "event";
    public const string AlertType = "alert";

    /// <summary>Bytes of <c>,"hash":"&lt;64 hex&gt;"}</c> at the end of every line (before the newline).</summary>
    public const int HashSuffixLength = 9 + 64 + 2;

    public const int HashSize = 32;

    public static ReadOnlySpan<byte> HashMemberStart => ",\"hash\":\""u8;

    /// <summary>H(0): the chain's start.</summary>
    public static string GenesisHex { get; } = new('0', 64);

    public static string SegmentName(long index) => SegmentPrefix + index.ToString("D6", CultureInfo.InvariantCulture) + SegmentSuffix;

    public static string ManifestName(long index) => SegmentPrefix + index.ToString("D6", CultureInfo.InvariantCulture) + ManifestSuffix;

    public static bool TryParseSegmentIndex(string fileName, out long index)
    {
        index = 0;
        return fileName.StartsWith(SegmentPrefix, StringComparison.Ordinal) && fileName.EndsWith(SegmentSuffix, StringComparison.Ordinal)
            && long.TryParse(fileName.AsSpan(SegmentPrefix.Length, fileName.Length - SegmentPrefix.Length - SegmentSuffix.Length),
                NumberStyles.None, CultureInfo.InvariantCulture, out index) && index > 0;
    }

    /// <summary>Segment indexes present in a folder, ascending.</summary>
    public static List<long> ListSegments(string directory) =>
        Directory.Exists(directory)
            ? Directory.EnumerateFiles(directory, SegmentPrefix + "*" + SegmentSuffix)
                .Select(p => TryParseSegmentIndex(Path.GetFileName(p), out var i) ? i : -1).Where(i => i > 0).Order().ToList()
            : [];

    public static void ToHex(ReadOnlySpan<byte> bytes, Span<byte> utf8)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            utf8[2 * i] = Nibble(bytes[i] >> 4);
            utf8[2 * i + 1] = Nibble(bytes[i] & 15);
        }
    }

    public static string ToHex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);

    public static bool TryFromHex(ReadOnlySpan<byte> utf8, Span<byte> bytes)
    {
        if (utf8.Length != bytes.Length * 2) return false;
        for (var i = 0; i < bytes.Length; i++)
        {
            var hi = Value(utf8[2 * i]);
            var lo = Value(utf8[2 * i + 1]);
            if (hi < 0 || lo < 0) return false;
            bytes[i] = (byte)(hi << 4 | lo);
        }
        return true;
    }

    private static byte Nibble(int v) => (byte)(v < 10 ? '0' + v : 'a' + v - 10);

    // Only lower-case digits are accepted: the writer emits no other, so an upper-cased digit is an edit.
    private static int Value(byte c) => c is >= (byte)'0' and <= (byte)'9' ? c - '0' : c is >= (byte)'a' and <= (byte)'f' ? c - 'a' + 10 : -1;

    /// <summary>H(N) from H(N-1) and the record's JSON without its hash member (<c>C(N)</c>).</summary>
    public static void Chain(IncrementalHash sha256, ReadOnlySpan<byte> previous, ReadOnlySpan<byte> contentWithoutClosingBrace, Span<byte> hash)
    {
        sha256.AppendData(previous);
        sha256.AppendData(contentWithoutClosingBrace);
        sha256.AppendData("}"u8);
        if (!sha256.TryGetHashAndReset(hash, out var written) || written != HashSize) throw new InvalidOperationException("SHA-256 gave no hash");
    }
}

/// <summary>The header fields of one archived line, as read back (the ECS document is left as bytes).</summary>
internal ref struct ParsedLine
{
    public long Seq;
    public ReadOnlySpan<byte> PrevHex;
    public ReadOnlySpan<byte> HashHex;
    public string Type;
    public string? Topic;
    public int Partition;
    public long Offset;
    /// <summary>Bytes of the ECS document within the line.</summary>
    public ReadOnlySpan<byte> Doc;
    /// <summary>The line up to, not including, the hash member: <c>C(N)</c> without its closing brace.</summary>
    public ReadOnlySpan<byte> ContentPrefix;

    /// <summary>
    /// Splits a line (without its newline) into its parts, or says what is wrong with its shape. The
    /// document is not validated here: the verifier validates whole lines, readers trust committed ones.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out ParsedLine parsed, out string? error)
    {
        parsed = default;
        error = null;
        if (line.Length < ArchiveFormat.HashSuffixLength + 2 || line[0] != (byte)'{' || line[^1] != (byte)'}' || line[^2] != (byte)'"'
            || !line[^ArchiveFormat.HashSuffixLength..].StartsWith(ArchiveFormat.HashMemberStart))
        {
            error = "the line does not end with a hash member";
            return false;
        }
        parsed.HashHex = line.Slice(line.Length - 66, 64);
        parsed.ContentPrefix = line[..^ArchiveFormat.HashSuffixLength];
        var reader = new Utf8JsonReader(parsed.ContentPrefix, isFinalBlock: false, state: default);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) { error = "not a JSON object"; return false; }
            var seen = 0;
            while (reader.Read())
            {
                if (reader.TokenType != JsonTokenType.PropertyName) { error = "unexpected JSON"; return false; }
                if (reader.ValueTextEquals("doc"u8))
                {
                    if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) { error = "doc is not an object"; return false; }
                    parsed.Doc = parsed.ContentPrefix[(int)reader.TokenStartIndex..];
                    break;
                }
                // Names compared as they stand in the line (an escaped name is no header name), without a string per name.
                var name = reader.ValueIsEscaped ? default : reader.ValueSpan;
                var member = name.SequenceEqual("seq"u8) ? Member.Seq : name.SequenceEqual("prev"u8) ? Member.Prev : name.SequenceEqual("type"u8) ? Member.Type
                    : name.SequenceEqual("topic"u8) ? Member.Topic : name.SequenceEqual("partition"u8) ? Member.Partition : name.SequenceEqual("offset"u8) ? Member.Offset : Member.Unknown;
                if (member == Member.Unknown) { error = "unknown member " + Encoding.UTF8.GetString(reader.ValueSpan); return false; }
                if (!reader.Read()) { error = "truncated JSON"; return false; }
                switch (member)
                {
                    case Member.Seq: parsed.Seq = reader.GetInt64(); seen |= 1; break;
                    case Member.Prev: parsed.PrevHex = reader.ValueSpan; seen |= 2; break;
                    case Member.Type: parsed.Type = TypeOf(ref reader); seen |= 4; break;
                    case Member.Topic: parsed.Topic = TopicOf(ref reader); break;
                    case Member.Partition: parsed.Partition = reader.GetInt32(); break;
                    default: parsed.Offset = reader.GetInt64(); break;
                }
            }
            if (seen != 7 || parsed.Doc.IsEmpty) { error = "seq, prev, type or doc is missing"; return false; }
            if (parsed.PrevHex.Length != 64) { error = "prev is not a SHA-256 in hex"; return false; }
            return true;
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            error = "not valid JSON: " + ex.Message;
            return false;
        }
    }

    private enum Member { Unknown, Seq, Prev, Type, Topic, Partition, Offset }

    // Readers go through millions of lines of two types and a handful of topics: the same strings, not one per line.
    [ThreadStatic] private static string? t_lastTopic;
    [ThreadStatic] private static byte[]? t_lastTopicUtf8;

    private static string TypeOf(ref Utf8JsonReader reader)
    {
        if (reader.TokenType == JsonTokenType.String && !reader.ValueIsEscaped)
        {
            if (reader.ValueSpan.SequenceEqual("event"u8)) return ArchiveFormat.EventType;
            if (reader.ValueSpan.SequenceEqual("alert"u8)) return ArchiveFormat.AlertType;
        }
        return reader.GetString() ?? "";
    }

    private static string? TopicOf(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String || reader.ValueIsEscaped) return reader.GetString();
        if (t_lastTopicUtf8 is { } known && reader.ValueSpan.SequenceEqual(known)) return t_lastTopic;
        var topic = reader.GetString()!;
        t_lastTopicUtf8 = reader.ValueSpan.ToArray();
        t_lastTopic = topic;
        return topic;
    }
}
