using Confluent.Kafka;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Support;

/// <summary>
/// A Kafka consumer in memory for the consumer runtime's unit tests: partitions are logs of records the test
/// appends; assignment changes the test asks for are delivered through the runtime's callbacks from inside
/// <see cref="Consume(TimeSpan)"/>, on the poll thread, as librdkafka does. A poll with nothing to return
/// returns at once (the runtime's clock is fake; nothing here waits).
/// </summary>
internal sealed class FakeConsumer(ConsumerCallbacks callbacks) : IConsumer<byte[]?, byte[]>
{
    private readonly Dictionary<TopicPartition, List<Message<byte[]?, byte[]>>> _logs = [];
    private readonly Dictionary<TopicPartition, long> _positions = [];
    private readonly List<TopicPartition> _assignment = [];
    private readonly HashSet<TopicPartition> _paused = [];
    private readonly Queue<Action> _rebalances = new();
    private readonly object _lock = new();
    private int _next;

    /// <summary>Positions committed, per partition (the last commit wins).</summary>
    public Dictionary<TopicPartition, long> CommittedOffsets { get; } = [];

    public IReadOnlyCollection<TopicPartition> PausedPartitions
    {
        get { lock (_lock) return _paused.ToArray(); }
    }

    public int Delivered { get; private set; }

    public bool Closed { get; private set; }

    public void Append(string topic, int partition, int count, DateTimeOffset timestamp)
    {
        lock (_lock)
        {
            var tp = new TopicPartition(topic, partition);
            if (!_logs.TryGetValue(tp, out var log)) _logs[tp] = log = [];
            for (var i = 0; i < count; i++)
                log.Add(new Message<byte[]?, byte[]> { Value = [(byte)i], Timestamp = new Timestamp(timestamp.UtcDateTime) });
        }
    }

    /// <summary>The group gives this member <paramref name="partitions"/> on the next poll.</summary>
    public void AssignOnNextPoll(params TopicPartition[] partitions) => _rebalances.Enqueue(() =>
    {
        var offsets = callbacks.Assigned(this, [.. partitions]).ToList();
        foreach (var tpo in offsets)
        {
            _assignment.Add(tpo.TopicPartition);
            _positions[tpo.TopicPartition] = tpo.Offset == Offset.Unset
                ? CommittedOffsets.GetValueOrDefault(tpo.TopicPartition, 0)
                : tpo.Offset.Value;
        }
    });

    /// <summary>The group takes <paramref name="partitions"/> away on the next poll (a cooperative revoke).</summary>
    public void RevokeOnNextPoll(params TopicPartition[] partitions) => _rebalances.Enqueue(() =>
    {
        callbacks.Revoked(this, partitions.Select(tp => new TopicPartitionOffset(tp, Offset.Unset)).ToList());
        foreach (var tp in partitions) _assignment.Remove(tp);
    });

    public ConsumeResult<byte[]?, byte[]>? Consume(TimeSpan timeout)
    {
        while (_rebalances.TryDequeue(out var rebalance)) rebalance();
        lock (_lock)
        {
            for (var i = 0; i < _assignment.Count; i++)
            {
                var tp = _assignment[(_next + i) % _assignment.Count];
                if (_paused.Contains(tp) || !_logs.TryGetValue(tp, out var log)) continue;
                var position = _positions[tp];
                if (position >= log.Count) continue;
                _positions[tp] = position + 1;
                _next = (_next + i + 1) % _assignment.Count;
                Delivered++;
                return new ConsumeResult<byte[]?, byte[]> { TopicPartitionOffset = new TopicPartitionOffset(tp, position), Message = log[(int)position] };
            }
        }
        return null;
    }

    public ConsumeResult<byte[]?, byte[]>? Consume(int millisecondsTimeout) => Consume(TimeSpan.FromMilliseconds(millisecondsTimeout));

    public ConsumeResult<byte[]?, byte[]> Consume(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public List<TopicPartition> Assignment
    {
        get { lock (_lock) return [.. _assignment]; }
    }

    public void Pause(IEnumerable<TopicPartition> partitions)
    {
        lock (_lock) _paused.UnionWith(partitions);
    }

    public void Resume(IEnumerable<TopicPartition> partitions)
    {
        lock (_lock) _paused.ExceptWith(partitions);
    }

    public void Commit(IEnumerable<TopicPartitionOffset> offsets)
    {
        lock (_lock)
            foreach (var tpo in offsets) CommittedOffsets[tpo.TopicPartition] = tpo.Offset.Value;
    }

    public List<TopicPartitionOffset> Committed(IEnumerable<TopicPartition> partitions, TimeSpan timeout)
    {
        lock (_lock) return partitions.Select(tp => new TopicPartitionOffset(tp, CommittedOffsets.TryGetValue(tp, out var o) ? new Offset(o) : Offset.Unset)).ToList();
    }

    public void Seek(TopicPartitionOffset tpo)
    {
        lock (_lock) _positions[tpo.TopicPartition] = tpo.Offset.Value;
    }

    public Offset Position(TopicPartition partition)
    {
        lock (_lock) return _positions.TryGetValue(partition, out var p) ? new Offset(p) : Offset.Unset;
    }

    public WatermarkOffsets GetWatermarkOffsets(TopicPartition topicPartition)
    {
        lock (_lock) return new WatermarkOffsets(0, _logs.TryGetValue(topicPartition, out var log) ? log.Count : 0);
    }

    public WatermarkOffsets QueryWatermarkOffsets(TopicPartition topicPartition, TimeSpan timeout) => GetWatermarkOffsets(topicPartition);

    public void Subscribe(IEnumerable<string> topics)
    {
    }

    public void Subscribe(string topic)
    {
    }

    public void Close() => Closed = true;

    public void Dispose()
    {
    }

    public string MemberId { get; private set; } = "fake";
    public List<string> Subscription => [];
    public IConsumerGroupMetadata ConsumerGroupMetadata => throw new NotSupportedException();
    public Handle Handle => throw new NotSupportedException();
    public string Name => "fake";
    public int AddBrokers(string brokers) => throw new NotSupportedException();
    public void SetSaslCredentials(string username, string password) => throw new NotSupportedException();
    public void Unsubscribe() => MemberId = "";
    public void Assign(TopicPartition partition) => throw new NotSupportedException();
    public void Assign(TopicPartitionOffset partition) => throw new NotSupportedException();
    public void Assign(IEnumerable<TopicPartitionOffset> partitions) => throw new NotSupportedException();
    public void Assign(IEnumerable<TopicPartition> partitions) => throw new NotSupportedException();
    public void IncrementalAssign(IEnumerable<TopicPartitionOffset> partitions) => throw new NotSupportedException();
    public void IncrementalAssign(IEnumerable<TopicPartition> partitions) => throw new NotSupportedException();
    public void IncrementalUnassign(IEnumerable<TopicPartition> partitions) => throw new NotSupportedException();
    public void Unassign() => throw new NotSupportedException();
    public void StoreOffset(ConsumeResult<byte[]?, byte[]> result) => throw new NotSupportedException();
    public void StoreOffset(TopicPartitionOffset offset) => throw new NotSupportedException();
    public List<TopicPartitionOffset> Commit() => throw new NotSupportedException();
    public void Commit(ConsumeResult<byte[]?, byte[]> result) => throw new NotSupportedException();
    public List<TopicPartitionOffset> Committed(TimeSpan timeout) => throw new NotSupportedException();
    public List<TopicPartitionOffset> OffsetsForTimes(IEnumerable<TopicPartitionTimestamp> timestampsToSearch, TimeSpan timeout) => throw new NotSupportedException();
}

/// <summary>The runtime's clients for unit tests: a <see cref="FakeConsumer"/> and dead letters kept in a list.</summary>
internal sealed class FakeClients : IConsumerFactory
{
    public FakeConsumer? Consumer { get; private set; }

    public List<(ConsumedRecord Record, string Reason)> DeadLettered { get; } = [];

    public IConsumer<byte[]?, byte[]> CreateConsumer(ConsumerConfig config, ConsumerCallbacks callbacks) => Consumer = new FakeConsumer(callbacks);

    public IDeadLetters CreateDeadLetters(KafkaOptions kafka, string group) => new ListDeadLetters(DeadLettered, "dlq." + group);

    private sealed class ListDeadLetters(List<(ConsumedRecord, string)> list, string topic) : IDeadLetters
    {
        public string Topic => topic;

        public void Publish(ConsumedRecord record, string reason, CancellationToken cancellationToken) => list.Add((record, reason));

        public void Dispose()
        {
        }
    }
}
