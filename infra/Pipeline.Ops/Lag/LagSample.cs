using Confluent.Kafka;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Positions;

namespace Pipeline.Ops.Lag;

/// <summary>One partition at one moment: the group's position (null: none stored), the partition's first and end offsets.</summary>
internal readonly record struct PartitionLag(TopicPartition Partition, long? Position, long Low, long End)
{
    /// <summary>Records the group has still to read: end minus position, or the whole partition when it has no position (it would start from earliest).</summary>
    public long Lag => Math.Max(0, End - (Position is { } p ? Math.Max(p, Low) : Low));
}

/// <summary>A group's lag over its partitions at one moment.</summary>
internal sealed record LagSample(string Group, DateTimeOffset At, IReadOnlyList<PartitionLag> Partitions)
{
    public long Total => Partitions.Sum(p => p.Lag);

    /// <summary>Reads the group's positions from <paramref name="store"/> and the partitions' offsets from Kafka.</summary>
    public static LagSample Take(string group, IReadOnlyList<TopicPartition> partitions, IPositionStore store, ClusterView cluster, TimeProvider time)
    {
        // Positions first, then ends: a record written in between makes the lag look larger, never negative.
        var positions = store.Read(group, partitions);
        var marks = cluster.Watermarks(partitions);
        return new LagSample(group, time.GetUtcNow(), partitions.Select(tp =>
            new PartitionLag(tp, positions.TryGetValue(tp, out var p) ? p : null, marks[tp].Low, marks[tp].High)).ToList());
    }
}
