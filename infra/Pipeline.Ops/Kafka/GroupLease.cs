using Confluent.Kafka;
using Pipeline.Ops.Cli;

namespace Pipeline.Ops.Kafka;

/// <summary>
/// Membership of a consumer group taken only to change its committed offsets. A commit from outside the
/// group is refused by the embedded cluster once the group has existed, and by Kafka while it has members,
/// so the tool joins as a member, commits as one, and leaves. Joining also answers what the embedded
/// cluster cannot be asked: if any other member is live, this one is not given every partition, and the
/// lease refuses to go on (the live group sees one extra rebalance, nothing else).
/// </summary>
internal sealed class GroupLease : IDisposable
{
    private static readonly TimeSpan JoinTimeout = TimeSpan.FromSeconds(45);
    private readonly IConsumer<byte[]?, byte[]> _consumer;
    private readonly string _group;

    private GroupLease(IConsumer<byte[]?, byte[]> consumer, string group)
    {
        _consumer = consumer;
        _group = group;
    }

    /// <summary>Joins <paramref name="group"/> on the topics of <paramref name="partitions"/>; refuses when another member holds any of them.</summary>
    public static GroupLease Take(KafkaConnection kafka, string group, IReadOnlyList<TopicPartition> partitions)
    {
        List<TopicPartition>? assigned = null;
        var consumer = kafka.Consumer(group, c =>
        {
            // Leave quickly if this process dies, and fetch next to nothing while holding the group.
            c.SessionTimeoutMs = 10_000;
            c.QueuedMaxMessagesKbytes = 64;
            c.FetchMaxBytes = 64 * 1024;
            c.MaxPartitionFetchBytes = 64 * 1024;
            c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.Range;
        }, b => b.SetPartitionsAssignedHandler((_, given) => { assigned = given; }));
        try
        {
            consumer.Subscribe(partitions.Select(p => p.Topic).Distinct());
            var deadline = DateTime.UtcNow + JoinTimeout;
            while (assigned is null && DateTime.UtcNow < deadline) consumer.Consume(TimeSpan.FromMilliseconds(100));
            if (assigned is null) throw new UsageException($"could not join group {group} within {JoinTimeout.TotalSeconds:0} s to change its offsets");
            consumer.Pause(assigned);
            var missing = partitions.Except(assigned).ToList();
            if (missing.Count > 0)
                throw new RefusedException($"group {group} has live members (they hold {Describe(missing)}); stop them first");
            return new GroupLease(consumer, group);
        }
        catch
        {
            consumer.Close();
            consumer.Dispose();
            throw;
        }
    }

    /// <summary>Commits these next offsets for the group.</summary>
    public void Commit(IEnumerable<TopicPartitionOffset> offsets)
    {
        var list = offsets.ToList();
        if (list.Count == 0) return;
        try
        {
            _consumer.Commit(list);
        }
        catch (KafkaException ex)
        {
            throw new UsageException($"could not commit offsets of group {_group}: {ex.Error.Reason}", ex);
        }
    }

    public void Dispose()
    {
        _consumer.Close();
        _consumer.Dispose();
    }

    private static string Describe(List<TopicPartition> partitions) =>
        partitions.Count <= 6 ? string.Join(", ", partitions.Select(p => $"{p.Topic}[{p.Partition.Value}]")) : $"{partitions.Count} partitions";
}
