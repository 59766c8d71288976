using System.Collections.Concurrent;
using Confluent.Kafka;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// The partitions this member holds and how far behind each is, in messages and in time, for the
/// <c>consumer_lag_*</c> gauges. The poll thread records progress; a scrape reads it (<see cref="Refresh"/>).
/// </summary>
internal sealed class LagMonitor(ConsumerMetrics metrics, TimeProvider time)
{
    private readonly ConcurrentDictionary<PartitionKey, PartitionProgress> _progress = new();

    public IReadOnlyCollection<PartitionKey> Partitions => _progress.Keys.ToArray();

    public bool IsEmpty => _progress.IsEmpty;

    /// <summary>True while this member holds the partition (from its assignment until it is revoked or lost).</summary>
    public bool Holds(PartitionKey key) => _progress.ContainsKey(key);

    public void Track(IEnumerable<PartitionKey> keys)
    {
        foreach (var key in keys) _progress.TryAdd(key, new PartitionProgress());
    }

    public void Started(PartitionKey key, long offset)
    {
        if (_progress.TryGetValue(key, out var progress)) progress.Start(offset);
    }

    public void Pending(ConsumedRecord record) => _progress.GetOrAdd(record.PartitionKey, static _ => new PartitionProgress()).Pending(record);

    /// <summary>A write reached <paramref name="next"/> (per partition); what is still in hand of each is in <paramref name="batch"/>.</summary>
    public void Written(IReadOnlyDictionary<PartitionKey, long> next, BatchInHand batch)
    {
        var now = time.GetUtcNow();
        foreach (var (key, offset) in next)
            if (_progress.TryGetValue(key, out var progress)) progress.Written(offset, batch.FirstFrom(key, offset), now);
    }

    public void Forget(IEnumerable<PartitionKey> keys)
    {
        foreach (var key in keys) _progress.TryRemove(key, out _);
        metrics.ClearLag();
    }

    /// <summary>Sets the lag gauges from the client's cached end offsets (called on the scrape thread).</summary>
    public void Refresh(IConsumer<byte[]?, byte[]>? consumer)
    {
        metrics.Assigned.Set(_progress.Count);
        if (consumer is null) return;
        var now = time.GetUtcNow();
        foreach (var (key, progress) in _progress)
        {
            WatermarkOffsets marks;
            try
            {
                marks = consumer.GetWatermarkOffsets(new TopicPartition(key.Topic, key.Partition));
            }
            catch (Exception)
            {
                continue;
            }
            var high = Math.Max(marks.High == Offset.Unset ? -1 : marks.High.Value, progress.QueriedHigh);
            // A held partition that has never held a record has no position to start from, and nothing to read:
            // it is shown, at 0, so every partition a member holds has a series.
            var next = progress.NextToWrite < 0 && marks.Low != Offset.Unset && marks.Low.Value == high ? high : progress.NextToWrite;
            if (high < 0 || next < 0) continue;
            var lag = Math.Max(0, high - next);
            metrics.LagMessages(key).Set(lag);
            metrics.LagSeconds(key).Set(lag == 0 ? 0 : progress.OldestUnwrittenAge(now).TotalSeconds);
        }
    }

    /// <summary>
    /// Paused partitions are not fetched, so the client's cached end offsets stop moving while the stream goes on:
    /// asked of the brokers now and then during an outage, so lag in messages keeps growing on /metrics.
    /// </summary>
    public void QueryWatermarks(IConsumer<byte[]?, byte[]> consumer)
    {
        foreach (var (key, progress) in _progress)
        {
            try
            {
                var marks = consumer.QueryWatermarkOffsets(new TopicPartition(key.Topic, key.Partition), TimeSpan.FromMilliseconds(500));
                if (marks.High != Offset.Unset) progress.Queried(marks.High.Value);
            }
            catch (KafkaException)
            {
                // Kafka is away too: the cached figure stays until the next round.
                return;
            }
        }
    }
}
