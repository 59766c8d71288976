using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Where newly assigned partitions start. A sink that stores its offsets (exactly-once) says where, and its
/// answer wins over Kafka's committed offset. When the sink cannot answer at assignment (its store is down),
/// those partitions wait — paused, their records dropped if fetched — and the question is asked again with
/// capped backoff; once answered, the consumer seeks there. Poll thread only.
/// </summary>
internal sealed class StartPositions(ConsumerOptions options, IBatchSink sink, TimeProvider time, ILogger log)
{
    private readonly HashSet<PartitionKey> _awaiting = [];
    private readonly Backoff _backoff = new(options.RetryInitialBackoff, options.RetryMaxBackoff);
    private DateTimeOffset _retryAt;

    /// <summary>Partitions whose stored start is not known yet.</summary>
    public IReadOnlySet<PartitionKey> Awaiting => _awaiting;

    public bool RetryDue => _awaiting.Count > 0 && time.GetUtcNow() >= _retryAt;

    /// <summary>Asks the sink where <paramref name="keys"/> resume (within the drain timeout); an empty answer when it cannot say.</summary>
    public IReadOnlyDictionary<PartitionKey, long> Assigned(IReadOnlyCollection<PartitionKey> keys, CancellationToken stopping)
    {
        try
        {
            return Ask(keys, stopping);
        }
        catch (Exception ex)
        {
            if (sink.OffsetStorage == OffsetStorage.Sink)
            {
                ConsumerLog.OffsetsUnavailable(log, ex, options.Group, string.Join(",", keys));
                _awaiting.UnionWith(keys);
                _retryAt = time.GetUtcNow();
            }
            return new Dictionary<PartitionKey, long>();
        }
    }

    /// <summary>
    /// Asks again for the partitions still waiting and seeks each to its start (the sink's, else Kafka's
    /// committed offset, else the group's <c>--from</c>); returns the starts found, or null when the sink still
    /// cannot say (the partitions are paused until it can). <paramref name="resume"/>: resume them when found.
    /// </summary>
    public IReadOnlyDictionary<PartitionKey, long>? Retry(IConsumer<byte[]?, byte[]> consumer, bool resume, CancellationToken stopping)
    {
        var keys = _awaiting.ToList();
        var partitions = keys.Select(k => new TopicPartition(k.Topic, k.Partition)).ToList();
        try
        {
            var stored = Ask(keys, stopping);
            var committed = consumer.Committed(partitions, TimeSpan.FromSeconds(5)).ToDictionary(c => new PartitionKey(c.Topic, c.Partition.Value), c => c.Offset);
            var starts = new Dictionary<PartitionKey, long>();
            foreach (var tp in partitions)
            {
                var key = new PartitionKey(tp.Topic, tp.Partition.Value);
                var offset = stored.TryGetValue(key, out var s) ? new Offset(s)
                    : committed.TryGetValue(key, out var c) && c != Offset.Unset ? c
                    : options.AutoOffsetReset == AutoOffsetReset.Earliest ? Offset.Beginning : Offset.End;
                consumer.Seek(new TopicPartitionOffset(tp, offset));
                if (offset.Value >= 0) starts[key] = offset.Value;
            }
            _awaiting.Clear();
            _backoff.Reset();
            // While the sink is failing they stay paused with the rest, and resume with them.
            if (resume) consumer.Resume(partitions);
            return starts;
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            ConsumerLog.OffsetsUnavailable(log, ex, options.Group, string.Join(",", partitions));
            _retryAt = time.GetUtcNow() + _backoff.NextDelay();
            // Their records would only be read to be dropped (they are read again from the stored offset).
            consumer.Pause(partitions);
            return null;
        }
    }

    public void Forget(IEnumerable<PartitionKey> keys) => _awaiting.ExceptWith(keys);

    private IReadOnlyDictionary<PartitionKey, long> Ask(IReadOnlyCollection<PartitionKey> keys, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(options.DrainTimeout, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
        return sink.OnAssignedAsync(keys, either.Token).GetAwaiter().GetResult();
    }
}
