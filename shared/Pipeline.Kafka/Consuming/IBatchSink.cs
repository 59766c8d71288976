namespace Pipeline.Kafka.Consuming;

/// <summary>A partition of a topic, as sinks see it (they know nothing else of Kafka).</summary>
public readonly record struct PartitionKey(string Topic, int Partition)
{
    public override string ToString() => $"{Topic}[{Partition}]";
}

/// <summary>One record read from the stream.</summary>
public sealed record ConsumedRecord(string Topic, int Partition, long Offset, byte[]? Key, byte[] Value, DateTimeOffset Timestamp)
{
    public PartitionKey PartitionKey => new(Topic, Partition);
}

/// <summary>
/// A batch for a sink to write. <see cref="NextOffsets"/> is, per partition, the offset to read next once
/// this batch is durable; it also covers records that went to the dead-letter topic, so a sink that
/// stores offsets stores these. It may name partitions with no record in <see cref="Records"/>.
/// </summary>
public sealed class SinkBatch(IReadOnlyList<ConsumedRecord> records, IReadOnlyDictionary<PartitionKey, long> nextOffsets)
{
    private long[]? _eventTimesMs;

    public IReadOnlyList<ConsumedRecord> Records { get; } = records;
    public IReadOnlyDictionary<PartitionKey, long> NextOffsets { get; } = nextOffsets;

    /// <summary>
    /// A sink that reads an event's own time while writing it (e.g. the syslog header's timestamp) notes it
    /// here, by the record's index in <see cref="Records"/>; after the write the runtime reports the event's
    /// age (<c>consumer_event_age_seconds</c>) from it. Optional: records without one are left out of that histogram.
    /// </summary>
    public void NoteEventTime(int index, DateTimeOffset eventTime) =>
        (_eventTimesMs ??= new long[Records.Count])[index] = eventTime.ToUnixTimeMilliseconds();

    /// <summary>The time noted for the record at <paramref name="index"/> in Unix milliseconds; 0 when none was.</summary>
    public long EventTimeMs(int index) => _eventTimesMs is { } times ? times[index] : 0;
}

/// <summary>Where a sink's progress lives.</summary>
public enum OffsetStorage
{
    /// <summary>The runtime commits to Kafka after a successful write: at least once.</summary>
    Kafka,
    /// <summary>The sink stores offsets atomically with its data and says where to resume: exactly-once effect.</summary>
    Sink,
}

/// <summary>
/// A sink: writes a batch or throws. It never touches Kafka. Throwing <see cref="PoisonRecordException"/>
/// or <see cref="PoisonBatchException"/> says the data is at fault (the runtime isolates it and moves it
/// to <c>dlq.&lt;group&gt;</c>); anything else is taken as the sink being unavailable, and the runtime
/// retries with capped backoff while the partitions are paused.
/// </summary>
public interface IBatchSink
{
    OffsetStorage OffsetStorage { get; }

    /// <summary>
    /// Called when partitions are assigned, before any of their records is read. A sink with
    /// <see cref="OffsetStorage.Sink"/> returns where to resume for the partitions it has stored progress
    /// for; the others start from Kafka's committed offset or the group's <c>--from</c>.
    /// </summary>
    Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken);

    /// <summary>Writes the batch durably (with <see cref="SinkBatch.NextOffsets"/> when the sink stores offsets) or throws.</summary>
    Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken);

    /// <summary>Called when partitions are taken away, after the runtime finished or abandoned their records.</summary>
    Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken);
}

/// <summary>
/// A sink with <see cref="OffsetStorage.Sink"/> that stores positions later than the write that reached them (for
/// example at most once per checkpoint interval, keeping what it counted in memory meanwhile). Kafka's committed
/// offsets are what outside tools read, and they must never run ahead of where the group would resume: the runtime
/// hands Kafka only what <see cref="StoredPositions"/> reports, not a write's positions.
/// </summary>
public interface IDeferredStorageSink : IBatchSink
{
    /// <summary>
    /// Per partition, the next offset this member stored durably so far. Read from the poll thread while the sink may
    /// store on another: return an immutable snapshot, a new instance each time it changes (the runtime takes it in
    /// only when the reference changes). A partition stored as it was revoked stays in it: the runtime takes only the
    /// partitions it still holds (and a revoked one's last position before letting it go).
    /// </summary>
    IReadOnlyDictionary<PartitionKey, long> StoredPositions { get; }
}

/// <summary>One record of a batch can never be written (bad JSON, a value the store refuses).</summary>
public sealed class PoisonRecordException(ConsumedRecord record, string reason, Exception? inner = null)
    : Exception($"poison record {record.Topic}[{record.Partition}]@{record.Offset}: {reason}", inner)
{
    public ConsumedRecord Record { get; } = record;
    public string Reason { get; } = reason;
}

/// <summary>The batch can never be written as it is, but the sink cannot tell which record is at fault.</summary>
public sealed class PoisonBatchException(string reason, Exception? inner = null) : Exception(reason, inner)
{
    public string Reason { get; } = reason;
}
