using System.Text.Json;
using System.Text.Json.Serialization;
using Pipeline.Consumers.Siem.Detection;

namespace Pipeline.Consumers.Siem.Archive;

/// <summary>
/// <c>checkpoint.json</c>: the archive's commit record, replaced atomically after each batch's data is
/// fsynced. It names the open segment and how many of its bytes are committed, the chain's head, the
/// next offset to read per partition, and the detection state as of that point — so data, offsets and
/// alerting state move together.
/// </summary>
internal sealed class Checkpoint
{
    public int Version { get; set; } = 1;
    public long Segment { get; set; }
    /// <summary>Committed bytes of <see cref="Segment"/>; anything after them is an unfinished write.</summary>
    public long Length { get; set; }
    /// <summary>Records in the archive (the last record's seq).</summary>
    public long Seq { get; set; }
    /// <summary>The last record's hash (H(seq)), hex.</summary>
    public string Hash { get; set; } = ArchiveFormat.GenesisHex;
    public DateTimeOffset SegmentOpenedAt { get; set; }
    public List<PartitionOffset> Offsets { get; set; } = [];
    public DetectionState? Detection { get; set; }
}

internal sealed record PartitionOffset(string Topic, int Partition, long Next);

/// <summary><c>segment-NNNNNN.manifest.json</c>: written when a segment is sealed; the verifier checks the segment against it.</summary>
internal sealed class SegmentManifest
{
    public string Segment { get; set; } = "";
    public long Records { get; set; }
    public long Events { get; set; }
    public long Alerts { get; set; }
    public long FirstSeq { get; set; }
    public long LastSeq { get; set; }
    /// <summary>The hash the segment's first record chains from (the previous segment's final hash).</summary>
    public string FirstPrev { get; set; } = "";
    public string FinalHash { get; set; } = "";
    public long Bytes { get; set; }
    public DateTimeOffset OpenedAt { get; set; }
    public DateTimeOffset SealedAt { get; set; }
    public List<PartitionRange> Partitions { get; set; } = [];
}

internal sealed record PartitionRange(string Topic, int Partition, long FirstOffset, long LastOffset, long Records);

/// <summary>A forwarder's position: the next byte to read and the seq of the last record it finished.</summary>
internal sealed record ArchiveCursor(long Segment, long Position, long Seq)
{
    public static ArchiveCursor Start { get; } = new(1, 0, 0);
}

/// <summary>How far the archive is committed (what readers may read).</summary>
internal sealed record ArchivePosition(long Segment, long Length, long Seq);

/// <summary>
/// The checkpoint as it is written after every batch: unindented, since it carries the detection windows and is
/// written, fsynced and renamed once a batch (read with <see cref="ArchiveJson"/>, like every archive file).
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Checkpoint))]
internal sealed partial class CompactArchiveJson : JsonSerializerContext;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(Checkpoint))]
[JsonSerializable(typeof(SegmentManifest))]
[JsonSerializable(typeof(ArchiveCursor))]
internal sealed partial class ArchiveJson : JsonSerializerContext
{
    public static T? Read<T>(string path, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type) where T : class
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), type);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not readable: {ex.Message}", ex);
        }
    }
}
