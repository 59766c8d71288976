namespace Pipeline.Kafka.Consuming;

/// <summary>
/// The records read and not yet handed to the sink, and when they are due to be written: once there are
/// <see cref="ConsumerOptions.BatchSize"/> of them, once the first is <see cref="ConsumerOptions.BatchMaxWait"/>
/// old, or — when no write is in flight — once nothing more is waiting to be read and no record came for
/// <see cref="ConsumerOptions.BatchLinger"/>. So a group that keeps up writes each record moments after it
/// arrives, and one that is behind (or reads while a write is in flight) gathers large batches by itself.
/// Used by the poll thread only.
/// </summary>
internal sealed class BatchInHand(ConsumerOptions options)
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);
    // With a write in flight the loop comes back soon, to account for it once it is done.
    private static readonly TimeSpan InFlightPoll = TimeSpan.FromMilliseconds(10);

    private readonly List<ConsumedRecord> _records = [];
    private DateTimeOffset _startedAt;
    private DateTimeOffset _lastRecordAt;
    // The last poll found nothing waiting: the records in hand are all there is for now.
    private bool _drained;

    public int Count => _records.Count;

    public void Add(ConsumedRecord record, DateTimeOffset now)
    {
        _drained = false;
        _lastRecordAt = now;
        if (_records.Count == 0) _startedAt = now;
        _records.Add(record);
    }

    /// <summary>A poll returned nothing: what is in hand is all there is for now.</summary>
    public void NothingWaiting() => _drained = true;

    /// <summary>Full, or its first record waited long enough, or (no write in flight) the stream paused for the linger.</summary>
    public bool IsDue(DateTimeOffset now, bool writeInFlight) =>
        _records.Count >= options.BatchSize
        || (_records.Count > 0 && (now - _startedAt >= options.BatchMaxWait || Lingered(now, writeInFlight)));

    /// <summary>How long the next poll may wait for a record without keeping a due batch waiting.</summary>
    public TimeSpan PollTimeout(DateTimeOffset now, bool writeInFlight, bool paused)
    {
        var timeout = writeInFlight ? InFlightPoll : IdlePoll;
        if (_records.Count == 0 || paused) return timeout;
        var due = _startedAt + options.BatchMaxWait;
        if (!writeInFlight && _lastRecordAt + options.BatchLinger < due) due = _lastRecordAt + options.BatchLinger;
        var untilDue = due - now;
        return untilDue >= timeout ? timeout : untilDue < TimeSpan.Zero ? TimeSpan.Zero : untilDue;
    }

    /// <summary>Every record in hand, oldest first; the batch is empty afterwards.</summary>
    public ConsumedRecord[] TakeAll()
    {
        var records = _records.ToArray();
        _records.Clear();
        return records;
    }

    /// <summary>A copy of the records in hand, oldest first (for a synchronous write that may finish part of them).</summary>
    public ConsumedRecord[] Snapshot() => _records.ToArray();

    /// <summary>A write that failed gives its records back, ahead of those read since.</summary>
    public void PutBack(IReadOnlyList<ConsumedRecord> records) => _records.InsertRange(0, records);

    /// <summary>The first <paramref name="count"/> records are written; what is left starts waiting afresh.</summary>
    public void RemoveWritten(int count, DateTimeOffset now)
    {
        _records.RemoveRange(0, count);
        if (_records.Count > 0) _startedAt = now;
    }

    /// <summary>Drops the records of partitions this member lost; returns how many.</summary>
    public int RemovePartitions(IReadOnlySet<PartitionKey> keys) => _records.RemoveAll(r => keys.Contains(r.PartitionKey));

    public bool Holds(PartitionKey key) => _records.Exists(r => r.PartitionKey == key);

    /// <summary>The oldest record in hand of <paramref name="key"/> at or after <paramref name="offset"/>, if any.</summary>
    public ConsumedRecord? FirstFrom(PartitionKey key, long offset) => _records.Find(r => r.PartitionKey == key && r.Offset >= offset);

    public void Clear() => _records.Clear();

    private bool Lingered(DateTimeOffset now, bool writeInFlight) => !writeInFlight && _drained && now - _lastRecordAt >= options.BatchLinger;
}
