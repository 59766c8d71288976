namespace Pipeline.Kafka.Consuming;

/// <summary>Where one partition stands, for the lag gauges (written by the poll thread, read by scrapes).</summary>
internal sealed class PartitionProgress
{
    private long _nextToWrite = -1;
    private long _oldestPendingTicks;
    private long _lastWrittenTicks;
    private long _queriedHigh = -1;

    /// <summary>The next offset to write (-1: not known yet).</summary>
    public long NextToWrite => Interlocked.Read(ref _nextToWrite);

    /// <summary>The end offset last asked of the brokers (-1: never asked).</summary>
    public long QueriedHigh => Interlocked.Read(ref _queriedHigh);

    public void Queried(long high) => Interlocked.Exchange(ref _queriedHigh, high);

    public void Start(long offset) => Interlocked.Exchange(ref _nextToWrite, offset);

    public void Pending(ConsumedRecord record)
    {
        if (Interlocked.Read(ref _nextToWrite) < 0) Interlocked.Exchange(ref _nextToWrite, record.Offset);
        if (Interlocked.Read(ref _oldestPendingTicks) == 0) Interlocked.Exchange(ref _oldestPendingTicks, record.Timestamp.UtcTicks);
    }

    /// <summary>Written up to <paramref name="next"/>; <paramref name="oldestLeft"/> is the oldest of its records still in hand.</summary>
    public void Written(long next, ConsumedRecord? oldestLeft, DateTimeOffset now)
    {
        Interlocked.Exchange(ref _nextToWrite, next);
        Interlocked.Exchange(ref _oldestPendingTicks, oldestLeft?.Timestamp.UtcTicks ?? 0);
        Interlocked.Exchange(ref _lastWrittenTicks, now.UtcTicks);
    }

    /// <summary>
    /// Now minus the receive time of the oldest record not yet written. When that record is not fetched yet,
    /// the time since the last write is used: the oldest unwritten record cannot be older.
    /// </summary>
    public TimeSpan OldestUnwrittenAge(DateTimeOffset now)
    {
        var pending = Interlocked.Read(ref _oldestPendingTicks);
        var reference = pending != 0 ? pending : Interlocked.Read(ref _lastWrittenTicks);
        return reference == 0 ? TimeSpan.Zero : TimeSpan.FromTicks(Math.Max(0, now.UtcTicks - reference));
    }
}
