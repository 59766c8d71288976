using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// The limits of a bounded run: <see cref="ConsumerOptions.StopAt"/> (read each named partition up to its end
/// offset, then stop fetching it; partitions not named are not read) and <see cref="ConsumerOptions.MaxRate"/>
/// (records per second, at most). Which partitions are done is found from their records, their start position
/// at assignment, or their position when a partition ends on offsets no record is delivered for. Poll thread only.
/// </summary>
internal sealed class BoundedRun(ConsumerOptions options, TimeProvider time, ILogger log)
{
    private readonly IReadOnlyDictionary<PartitionKey, long> _stopAt = options.StopOffsets;
    private readonly HashSet<PartitionKey> _reached = [];
    private readonly TimeSpan _readInterval = options.MaxRate > 0 ? TimeSpan.FromSeconds(1 / options.MaxRate) : TimeSpan.Zero;
    private DateTimeOffset _nextReadAt;

    /// <summary>A stop is set: the run ends once every named partition is read to its end.</summary>
    public bool Bounded => _stopAt.Count > 0;

    /// <summary>Every named partition is read up to its end.</summary>
    public bool AllReached => _stopAt.Count > 0 && _reached.Count >= _stopAt.Count && _stopAt.Keys.All(_reached.Contains);

    public int Partitions => _stopAt.Count;

    public bool Reached(PartitionKey key) => _reached.Contains(key);

    /// <summary>How long to wait before reading the next record under the rate cap (zero: read now).</summary>
    public TimeSpan UntilNextRead()
    {
        if (_readInterval == TimeSpan.Zero) return TimeSpan.Zero;
        var left = _nextReadAt - time.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// Called for every record read: false when it lies past its partition's stop (it is dropped and the
    /// partition stops being fetched); counts it against the rate cap otherwise.
    /// </summary>
    public bool Take(IConsumer<byte[]?, byte[]> consumer, ConsumedRecord record)
    {
        var key = record.PartitionKey;
        if (_stopAt.Count > 0 && (!_stopAt.TryGetValue(key, out var stop) || record.Offset >= stop))
        {
            Reach(consumer, key);
            return false;
        }
        if (_readInterval > TimeSpan.Zero)
        {
            var now = time.GetUtcNow();
            _nextReadAt = (_nextReadAt > now ? _nextReadAt : now) + _readInterval;
        }
        if (_stopAt.TryGetValue(key, out var end) && record.Offset + 1 >= end) Reach(consumer, key);
        return true;
    }

    /// <summary>A partition starts at <paramref name="offset"/>: done already when that is at or past its stop.</summary>
    public void Starts(PartitionKey key, long offset)
    {
        if (_stopAt.TryGetValue(key, out var stop) && offset >= stop) _reached.Add(key);
    }

    /// <summary>
    /// Assigned partitions that start at or past their end (or are not named) have nothing to read; no record
    /// will come to say so, so the start position does: the sink's stored one, Kafka's committed one, or the
    /// group's <c>--from</c> end. Partitions still <paramref name="awaiting"/> their stored position are left.
    /// </summary>
    public void Assigned(IConsumer<byte[]?, byte[]> consumer, List<TopicPartition> partitions, IReadOnlyDictionary<PartitionKey, long> stored,
        IReadOnlySet<PartitionKey> awaiting)
    {
        if (_stopAt.Count == 0) return;
        var unknown = new List<TopicPartition>();
        foreach (var tp in partitions)
        {
            var key = Key(tp);
            if (!_stopAt.ContainsKey(key)) _reached.Add(key);
            else if (stored.TryGetValue(key, out var start)) Starts(key, start);
            else if (!awaiting.Contains(key)) unknown.Add(tp);
        }
        if (unknown.Count == 0) return;
        try
        {
            var committed = consumer.Committed(unknown, options.DrainTimeout).ToDictionary(c => Key(c.TopicPartition), c => c.Offset);
            foreach (var tp in unknown)
            {
                var key = Key(tp);
                if (committed.TryGetValue(key, out var c) && c != Offset.Unset) Starts(key, c.Value);
                else
                {
                    var marks = consumer.QueryWatermarkOffsets(tp, options.DrainTimeout);
                    Starts(key, options.AutoOffsetReset == AutoOffsetReset.Earliest ? marks.Low.Value : marks.High.Value);
                }
            }
        }
        catch (KafkaException ex)
        {
            // Not fatal: a partition with records left is still found done by its records or position.
            ConsumerLog.KafkaError(log, options.Group, ex.Error.Code.ToString(), ex.Error.Reason);
        }
    }

    /// <summary>
    /// A poll found nothing: a partition can end on offsets no record is delivered for (an empty range,
    /// transaction markers); its position then says it is done.
    /// </summary>
    public void CheckPositions(IConsumer<byte[]?, byte[]> consumer, IReadOnlySet<PartitionKey> awaiting, BatchInHand batch)
    {
        if (_stopAt.Count == 0) return;
        foreach (var tp in consumer.Assignment)
        {
            var key = Key(tp);
            if (_reached.Contains(key) || awaiting.Contains(key)) continue;
            if (!_stopAt.TryGetValue(key, out var stop))
            {
                Reach(consumer, key);
                continue;
            }
            Offset position;
            try
            {
                position = consumer.Position(tp);
            }
            catch (KafkaException)
            {
                continue;
            }
            if (position != Offset.Unset && position.Value >= stop && !batch.Holds(key)) Reach(consumer, key);
        }
    }

    private void Reach(IConsumer<byte[]?, byte[]> consumer, PartitionKey key)
    {
        consumer.Pause([new TopicPartition(key.Topic, key.Partition)]);
        if (_reached.Add(key)) ConsumerLog.ReachedStop(log, options.Group, key.ToString(), _stopAt.GetValueOrDefault(key));
    }

    private static PartitionKey Key(TopicPartition tp) => new(tp.Topic, tp.Partition.Value);
}
