namespace Pipeline.Edge.Publishing.Spool;

/// <summary>The disk spool (section <c>Edge:Spool</c>).</summary>
public sealed class SpoolOptions
{
    /// <summary>Directory of the spool's segment files; one edge per directory. Default <c>spool</c> beside the working directory.</summary>
    public string Directory { get; set; } = "spool";

    /// <summary>Most bytes the spool may hold on disk. Default 1 GiB.</summary>
    public long MaxBytes { get; set; } = 1L << 30;

    /// <summary>A segment file is sealed and a new one started at this size. Default 16 MiB.</summary>
    public long SegmentBytes { get; set; } = 16L << 20;

    /// <summary>Group commit: appended records are written and fsynced together at this interval. Default 10 ms.</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Records read from the spool and handed to Kafka but not yet acknowledged, at most. Default 20,000.</summary>
    public int DrainWindow { get; set; } = 20_000;

    /// <summary>Spool fill (0–1) from which low-priority routes are shed. Default 0.5.</summary>
    public double ShedLowPriorityAt { get; set; } = 0.5;

    /// <summary>Spool fill (0–1) from which only high-priority routes are still accepted. Default 0.9.</summary>
    public double ReserveForHighPriorityAt { get; set; } = 0.9;

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory)) throw new ArgumentException("Edge:Spool:Directory is required");
        if (MaxBytes < 1 << 20) throw new ArgumentException("Edge:Spool:MaxBytes must be at least 1 MiB");
        if (SegmentBytes < 64 * 1024 || SegmentBytes > MaxBytes) throw new ArgumentException("Edge:Spool:SegmentBytes must be between 64 KiB and MaxBytes");
        if (FsyncInterval <= TimeSpan.Zero) throw new ArgumentException("Edge:Spool:FsyncInterval must be positive");
        if (DrainWindow < 1) throw new ArgumentException("Edge:Spool:DrainWindow must be at least 1");
        if (ShedLowPriorityAt is <= 0 or > 1 || ReserveForHighPriorityAt is <= 0 or > 1 || ShedLowPriorityAt > ReserveForHighPriorityAt)
            throw new ArgumentException("Edge:Spool: need 0 < ShedLowPriorityAt <= ReserveForHighPriorityAt <= 1");
    }
}
