namespace Pipeline.Edge.Publishing;

/// <summary>What "accepted" means for a listener's events.</summary>
public enum BufferMode
{
    /// <summary>Handed to the idempotent producer (in memory); overflow and restarts go through the disk spool.</summary>
    Memory,
    /// <summary>Appended to the on-disk log first (write-ahead, group-committed fsync); removed once Kafka acknowledged.</summary>
    Disk,
}
