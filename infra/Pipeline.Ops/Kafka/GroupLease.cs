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
    // Short sessions first: on the embedded cluster a group's next rebalance waits for the session of the
    // member that joined last, so a short one here lets the group's own workers rejoin soon after the lease.
    // That cluster also drops a member whose session runs out while it waits to be assigned (after another
    // member left, it waits for the session of the one that left), so a join that is not answered in time is
    // tried again with a longer session.
    private static readonly TimeSpan[] Sessions = [TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(12), TimeSpan.FromSeconds(24)];
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
        foreach (var session in Sessions)
        {
            List<TopicPartition>? assigned = null;
            var consumer = kafka.Consumer(group, c =>
            {
                c.SessionTimeoutMs = (int)session.TotalMilliseconds;
                c.HeartbeatIntervalMs = 1000;
                // Fetch next to nothing while holding the group.
                c.QueuedMaxMessagesKbytes = 64;
                c.MaxPartitionFetchBytes = 64 * 1024;
                // As the workers assign (see GroupMembership): a group takes one assignor.
                c.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
            }, b => b.SetPartitionsAssignedHandler((_, given) => { assigned = given; }));
            try
            {
                consumer.Subscribe(partitions.Select(p => p.Topic).Distinct());
                var deadline = DateTime.UtcNow + session + TimeSpan.FromSeconds(1);
                while (assigned is null && DateTime.UtcNow < deadline) consumer.Consume(TimeSpan.FromMilliseconds(100));
                if (assigned is null)
                {
                    consumer.Close();
                    consumer.Dispose();
                    continue;
                }
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
        throw new UsageException($"could not join group {group} to change its offsets (no assignment within {Sessions.Sum(s => s.TotalSeconds + 1):0} s)");
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
