namespace Pipeline.Consumers.Siem;

/// <summary>The tamper-evident archive (section <c>Siem:Archive</c>).</summary>
public sealed class ArchiveOptions
{
    /// <summary>Folder of segments, manifests, the checkpoint and the forwarding cursors. Default <c>.pipeline/siem-archive</c> (relative to the working directory). One process per folder.</summary>
    public string Directory { get; set; } = ".pipeline/siem-archive";

    /// <summary>A segment is sealed and a new one opened once it holds this many bytes (checked between batches). Default 64 MiB.</summary>
    public long SegmentMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>…or once it has been open this long (checked between batches and every few seconds). Default 1 hour.</summary>
    public TimeSpan SegmentMaxAge { get; set; } = TimeSpan.FromHours(1);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory)) throw new ArgumentException("Siem:Archive:Directory is required");
        if (SegmentMaxBytes < 4096) throw new ArgumentException("Siem:Archive:SegmentMaxBytes must be at least 4096");
        if (SegmentMaxAge < TimeSpan.FromSeconds(1)) throw new ArgumentException("Siem:Archive:SegmentMaxAge must be at least 1 s");
    }
}
