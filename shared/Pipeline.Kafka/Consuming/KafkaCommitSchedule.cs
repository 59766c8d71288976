namespace Pipeline.Kafka.Consuming;

/// <summary>
/// The written positions Kafka has not been told yet, and when to tell it. An exactly-once sink keeps its
/// positions with its data, and that store is where the group resumes; Kafka's committed offsets are what
/// every outside tool reads (kafka-consumer-groups.sh, Burrow, Kafka UIs, lag exporters), so they follow each
/// write within <paramref name="interval"/>: at once when the last commit is that old, else as soon as it
/// becomes so — whether or not another batch comes, so the last write before a quiet spell is committed
/// too. A commit per batch would cost each write a synchronous round trip to the coordinator. An
/// at-least-once sink (interval zero) commits after every write: the commit is its progress. Only positions
/// of completed writes are taken in, so Kafka never runs ahead of what is written.
/// Used by the poll thread only.
/// </summary>
internal sealed class KafkaCommitSchedule(TimeProvider time, TimeSpan interval)
{
    /// <summary>After a commit failed, the wait before the next attempt (at least): the coordinator may be away.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly Dictionary<PartitionKey, long> _pending = [];
    private DateTimeOffset _notBefore = DateTimeOffset.MinValue;

    /// <summary>Partitions with a written position Kafka has not taken yet.</summary>
    public int Pending => _pending.Count;

    /// <summary>True when something is pending and the last attempt is long enough ago.</summary>
    public bool IsDue => _pending.Count > 0 && time.GetUtcNow() >= _notBefore;

    /// <summary>Notes the positions (per partition, the next offset to read) a successful write reached.</summary>
    public void Written(IReadOnlyDictionary<PartitionKey, long> next)
    {
        foreach (var (key, offset) in next)
            if (!_pending.TryGetValue(key, out var known) || known < offset) _pending[key] = offset;
    }

    /// <summary>
    /// The positions to commit now (empty when none is pending), whether or not <see cref="IsDue"/>: revoke and
    /// shutdown commit at once. Report the outcome with <see cref="Committed"/> or <see cref="Failed"/>.
    /// </summary>
    public IReadOnlyList<KeyValuePair<PartitionKey, long>> Take()
    {
        _notBefore = time.GetUtcNow() + interval;
        return _pending.ToList();
    }

    /// <summary>Kafka took <paramref name="taken"/>: those positions are no longer pending (unless a write went further meanwhile).</summary>
    public void Committed(IReadOnlyList<KeyValuePair<PartitionKey, long>> taken)
    {
        foreach (var (key, offset) in taken)
            if (_pending.TryGetValue(key, out var now) && now == offset) _pending.Remove(key);
    }

    /// <summary>The commit failed: everything stays pending and is tried again after <see cref="RetryDelay"/> at the earliest.</summary>
    public void Failed()
    {
        var retry = time.GetUtcNow() + (interval > RetryDelay ? interval : RetryDelay);
        if (retry > _notBefore) _notBefore = retry;
    }

    /// <summary>Partitions this member no longer holds: another member commits them now.</summary>
    public void Forget(IEnumerable<PartitionKey> keys)
    {
        foreach (var key in keys) _pending.Remove(key);
    }
}
