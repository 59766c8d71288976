using System.Text;
using System.Text.Json;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>One committed record read back for forwarding.</summary>
internal sealed class ArchivedRecord(long seq, string type, string hash, string? topic, int partition, long offset, byte[] doc)
{
    private JsonElement? _json;

    public long Seq { get; } = seq;
    public string Type { get; } = type;
    /// <summary>The record's chain hash (hex): lets a SIEM tie what it got to the archive.</summary>
    public string Hash { get; } = hash;
    public string? Topic { get; } = topic;
    public int Partition { get; } = partition;
    public long Offset { get; } = offset;
    /// <summary>The ECS document exactly as archived (UTF-8 JSON).</summary>
    public byte[] Doc { get; } = doc;

    public bool IsAlert => Type == ArchiveFormat.AlertType;

    /// <summary>The document, parsed on first use.</summary>
    public JsonElement Json => _json ??= JsonSerializer.Deserialize(Doc, ArchiveReaderJson.Default.JsonElement);
}

/// <summary>
/// Reads committed records from a position on, across segments, never past what the writer committed:
/// forwarders work from the archive files (memory stays bounded by their batch size), not from a queue.
/// </summary>
internal sealed class ArchiveReader(string directory)
{
    /// <summary>
    /// Reads up to <paramref name="maxRecords"/> committed records after <paramref name="from"/>; <c>Read</c> counts every
    /// record read, <c>Records</c> holds those whose type <paramref name="includesType"/> takes (all without it): a
    /// forwarder of alerts reads every event too, and copying each one's document out only to drop it was most of
    /// what its reading allocated.
    /// </summary>
    public (List<ArchivedRecord> Records, int Read, ArchiveCursor Next) Read(ArchiveCursor from, ArchivePosition committed, int maxRecords,
        Func<string, bool>? includesType = null)
    {
        var records = new List<ArchivedRecord>();
        var read = 0;
        var cursor = from;
        while (read < maxRecords && cursor.Segment <= committed.Segment)
        {
            var sealedSegment = cursor.Segment < committed.Segment;
            var path = Path.Combine(directory, ArchiveFormat.SegmentName(cursor.Segment));
            if (!File.Exists(path)) throw new InvalidDataException($"{path} is missing: the archive was altered; run verify");
            using var reader = new LineReader(path, cursor.Position, sealedSegment ? long.MaxValue : committed.Length);
            while (read < maxRecords && reader.ReadLine())
            {
                if (reader.Torn) throw new InvalidDataException($"{path}: a torn line at byte {reader.LineStart} inside committed data; run verify");
                if (!ParsedLine.TryParse(reader.Line, out var parsed, out var error))
                    throw new InvalidDataException($"{path}: the record at byte {reader.LineStart} is damaged ({error}); run verify");
                read++;
                if (includesType is null || includesType(parsed.Type))
                    records.Add(new ArchivedRecord(parsed.Seq, parsed.Type, Encoding.ASCII.GetString(parsed.HashHex), parsed.Topic, parsed.Partition,
                        parsed.Offset, parsed.Doc.ToArray()));
                cursor = new ArchiveCursor(cursor.Segment, reader.LineEnd, parsed.Seq);
            }
            if (read >= maxRecords || !sealedSegment || cursor.Position < reader.Limit) break;
            cursor = new ArchiveCursor(cursor.Segment + 1, 0, cursor.Seq);
        }
        return (records, read, cursor);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(JsonElement))]
internal sealed partial class ArchiveReaderJson : System.Text.Json.Serialization.JsonSerializerContext;
