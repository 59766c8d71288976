using Microsoft.Extensions.Logging;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Writes records on the poll thread and isolates those the sink refuses. A <see cref="PoisonRecordException"/>
/// names the record: the records before it are written, it goes to <c>dlq.&lt;group&gt;</c>, then the rest. A
/// <see cref="PoisonBatchException"/> does not: the batch is split in halves until the refused record stands alone.
/// Positions past dead-lettered records are carried in the next write's <see cref="SinkBatch.NextOffsets"/> (an empty
/// write when nothing follows), so a sink that stores offsets stores them too. Any other failure is the sink being
/// unavailable: it propagates, with what was finished so far reported through <c>completed</c>.
/// </summary>
internal sealed class PoisonIsolation(
    Func<SinkBatch, CancellationToken, Task> write,
    Action<int, IReadOnlyDictionary<PartitionKey, long>> written,
    IDeadLetters deadLetters,
    ConsumerMetrics metrics,
    ILogger log,
    string group)
{
    private readonly Dictionary<PartitionKey, long> _deadLetteredNext = [];

    /// <summary>Records went to the dead-letter topic whose positions no write has carried yet.</summary>
    public bool HasDeadLettered => _deadLetteredNext.Count > 0;

    /// <summary>
    /// Writes <paramref name="records"/>; <paramref name="completed"/> counts the leading records that are done
    /// (written or dead-lettered), also when a later part throws.
    /// </summary>
    public void Deliver(ConsumedRecord[] records, ref int completed, CancellationToken cancellationToken)
    {
        Deliver(records, 0, records.Length, ref completed, cancellationToken);
        if (_deadLetteredNext.Count > 0) Write([], cancellationToken);
    }

    /// <summary>Per partition, the offset after the last record of <paramref name="records"/> or dead-lettered record.</summary>
    public Dictionary<PartitionKey, long> NextOffsets(IReadOnlyList<ConsumedRecord> records)
    {
        var next = new Dictionary<PartitionKey, long>(_deadLetteredNext);
        foreach (var r in records)
        {
            var key = r.PartitionKey;
            if (!next.TryGetValue(key, out var seen) || seen <= r.Offset) next[key] = r.Offset + 1;
        }
        return next;
    }

    /// <summary>Forgets dead-lettered positions of partitions this member no longer holds (or of records to be read again).</summary>
    public void Forget(IEnumerable<PartitionKey> keys)
    {
        foreach (var key in keys) _deadLetteredNext.Remove(key);
    }

    public void ForgetAll() => _deadLetteredNext.Clear();

    private void Deliver(ConsumedRecord[] records, int start, int count, ref int completed, CancellationToken cancellationToken)
    {
        if (count == 0) return;
        try
        {
            Write(new ArraySegment<ConsumedRecord>(records, start, count), cancellationToken);
            completed = start + count;
        }
        catch (PoisonRecordException poison)
        {
            var at = Array.FindIndex(records, start, count, r => r.PartitionKey == poison.Record.PartitionKey && r.Offset == poison.Record.Offset);
            if (at < 0) throw new InvalidOperationException("the sink named a poison record that is not in the batch", poison);
            Deliver(records, start, at - start, ref completed, cancellationToken);
            DeadLetter(records[at], poison.Reason, cancellationToken);
            completed = at + 1;
            Deliver(records, at + 1, start + count - at - 1, ref completed, cancellationToken);
        }
        catch (PoisonBatchException poison)
        {
            if (count == 1)
            {
                DeadLetter(records[start], poison.Reason, cancellationToken);
                completed = start + 1;
                return;
            }
            var half = count / 2;
            Deliver(records, start, half, ref completed, cancellationToken);
            Deliver(records, start + half, count - half, ref completed, cancellationToken);
        }
    }

    private void Write(IReadOnlyList<ConsumedRecord> records, CancellationToken cancellationToken)
    {
        var next = NextOffsets(records);
        write(new SinkBatch(records, next), cancellationToken).GetAwaiter().GetResult();
        _deadLetteredNext.Clear();
        written(records.Count, next);
    }

    private void DeadLetter(ConsumedRecord record, string reason, CancellationToken cancellationToken)
    {
        deadLetters.Publish(record, reason, cancellationToken);
        var key = record.PartitionKey;
        if (!_deadLetteredNext.TryGetValue(key, out var seen) || seen <= record.Offset) _deadLetteredNext[key] = record.Offset + 1;
        metrics.DeadLettered.Inc();
        ConsumerLog.DeadLettered(log, group, record.Topic, record.Partition, record.Offset, deadLetters.Topic, reason);
    }
}
