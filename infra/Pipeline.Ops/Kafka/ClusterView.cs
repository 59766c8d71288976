using Confluent.Kafka;
using Pipeline.Ops.Cli;

namespace Pipeline.Ops.Kafka;

/// <summary>
/// Read-only questions to the cluster every command asks: which partitions, where they begin and end, where a group
/// stands. The clients it opens are kept until it is disposed, so a view asked every few seconds (the status page)
/// does not open new connections each time.
/// </summary>
internal sealed class ClusterView(KafkaConnection kafka) : IDisposable
{
    private readonly Lazy<IConsumer<byte[]?, byte[]>> _reader = new(() => kafka.Consumer("pipeline-ops-reader"));
    private readonly Lazy<IAdminClient> _admin = new(kafka.Admin);
    private readonly Dictionary<string, IConsumer<byte[]?, byte[]>> _groupReaders = new(StringComparer.Ordinal);
    private readonly Lazy<Lag.OldestUnread> _oldest = new(() => new Lag.OldestUnread(kafka));

    /// <summary>
    /// The partitions of <paramref name="topics"/>, in order. The cluster's whole metadata is asked for
    /// (not each topic by name), so that asking never creates a topic on a broker that auto-creates.
    /// </summary>
    public IReadOnlyList<TopicPartition> Partitions(IReadOnlyList<string> topics)
    {
        var metadata = Metadata();
        var partitions = new List<TopicPartition>();
        foreach (var topic in topics)
        {
            var found = metadata.Topics.Find(t => t.Topic == topic);
            if (found is null || found.Error.Code == ErrorCode.UnknownTopicOrPart || found.Partitions.Count == 0)
                throw new UsageException($"topic '{topic}' does not exist on {kafka.BootstrapServers} (topics: {string.Join(", ", metadata.Topics.Select(t => t.Topic).Where(t => !t.StartsWith("__", StringComparison.Ordinal)).Order(StringComparer.Ordinal))})");
            partitions.AddRange(found.Partitions.Select(p => p.PartitionId).Order().Select(p => new TopicPartition(topic, p)));
        }
        return partitions;
    }

    public Metadata Metadata()
    {
        try
        {
            return _admin.Value.GetMetadata(KafkaConnection.RequestTimeout);
        }
        catch (KafkaException ex)
        {
            throw new UsageException($"cannot reach Kafka at {kafka.BootstrapServers}: {ex.Error.Reason}", ex);
        }
    }

    /// <summary>First and end offset (the offset the next record will get) of each partition.</summary>
    public IReadOnlyDictionary<TopicPartition, (long Low, long High)> Watermarks(IEnumerable<TopicPartition> partitions)
    {
        var marks = new Dictionary<TopicPartition, (long, long)>();
        foreach (var tp in partitions)
        {
            try
            {
                var w = _reader.Value.QueryWatermarkOffsets(tp, KafkaConnection.RequestTimeout);
                marks[tp] = (w.Low.Value, w.High.Value);
            }
            catch (KafkaException ex)
            {
                throw new UsageException($"cannot read the offsets of {tp.Topic}[{tp.Partition.Value}] from {kafka.BootstrapServers}: {ex.Error.Reason}", ex);
            }
        }
        return marks;
    }

    /// <summary>The group's committed offsets in Kafka (absent: never committed). Asking does not join the group.</summary>
    public IReadOnlyDictionary<TopicPartition, long> Committed(string group, IReadOnlyList<TopicPartition> partitions)
    {
        if (!_groupReaders.TryGetValue(group, out var consumer)) _groupReaders[group] = consumer = kafka.Consumer(group);
        try
        {
            return consumer.Committed(partitions, KafkaConnection.RequestTimeout)
                .Where(c => c.Offset != Offset.Unset && c.Offset.Value >= 0)
                .ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
        }
        catch (KafkaException ex)
        {
            throw new UsageException($"cannot read the committed offsets of group {group}: {ex.Error.Reason}", ex);
        }
    }

    /// <summary>
    /// The timestamps of the records at the given positions, or of the next ones that exist (see <see cref="Lag.OldestUnread"/>);
    /// those not read within <paramref name="timeout"/> are left out.
    /// </summary>
    public IReadOnlyDictionary<(TopicPartition Partition, long Offset), DateTimeOffset> TimestampsAt(IEnumerable<(TopicPartition Partition, long Offset)> positions, TimeSpan timeout) =>
        _oldest.Value.Timestamps(positions, timeout);

    public void Dispose()
    {
        if (_reader.IsValueCreated) _reader.Value.Dispose();
        if (_admin.IsValueCreated) _admin.Value.Dispose();
        foreach (var consumer in _groupReaders.Values) consumer.Dispose();
        if (_oldest.IsValueCreated) _oldest.Value.Dispose();
    }
}
