using Confluent.Kafka;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Positions;

namespace Pipeline.Ops.Lag;

/// <summary>
/// One partition at one moment: the group's position (null: none stored), the partition's first and end
/// offsets, and, when the group is behind and it was asked for, the timestamp of the oldest record it has not
/// read (the edge stamps records with their receive time).
/// </summary>
internal readonly record struct PartitionLag(TopicPartition Partition, long? Position, long Low, long End, DateTimeOffset? OldestUnread = null)
{
    /// <summary>Records the group has still to read: end minus position, or the whole partition when it has no position (it would start from earliest).</summary>
    public long Lag => Math.Max(0, End - NextToRead);

    /// <summary>The offset the group reads next: its position, or the first offset when it has none or the record there is gone.</summary>
    public long NextToRead => Position is { } p ? Math.Max(p, Low) : Low;

    /// <summary>Lag in time: how long the oldest unread record has waited (zero when caught up; null when it could not be read).</summary>
    public TimeSpan? Age(DateTimeOffset now) =>
        Lag == 0 ? TimeSpan.Zero : OldestUnread is { } oldest ? (now > oldest ? now - oldest : TimeSpan.Zero) : null;
}

/// <summary>A group's lag over its partitions at one moment.</summary>
internal sealed record LagSample(string Group, DateTimeOffset At, IReadOnlyList<PartitionLag> Partitions)
{
    public long Total => Partitions.Sum(p => p.Lag);

    /// <summary>The largest lag in time of the group's partitions (null when none of the lagging ones could be read).</summary>
    public TimeSpan? MaxAge => Partitions.Select(p => p.Age(At)).Where(a => a is not null).Max();

    /// <summary>How long the records at the group's positions may take to read, all partitions together.</summary>
    private static readonly TimeSpan AgeReadTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Reads the group's positions from <paramref name="store"/> and the partitions' offsets from Kafka; with
    /// <paramref name="ages"/>, also the timestamp of each lagging partition's next record (read together, in one round per partition).
    /// </summary>
    public static LagSample Take(string group, IReadOnlyList<TopicPartition> partitions, IPositionStore store, ClusterView cluster, TimeProvider time, bool ages)
    {
        // Positions first, then ends: a record written in between makes the lag look larger, never negative.
        var positions = store.Read(group, partitions);
        var marks = cluster.Watermarks(partitions);
        var at = time.GetUtcNow();
        var rows = partitions.Select(tp => new PartitionLag(tp, positions.TryGetValue(tp, out var p) ? p : null, marks[tp].Low, marks[tp].High)).ToList();
        if (ages)
        {
            var stamps = cluster.TimestampsAt(rows.Where(r => r.Lag > 0).Select(r => (r.Partition, r.NextToRead)), AgeReadTimeout);
            for (var i = 0; i < rows.Count; i++)
                if (rows[i].Lag > 0 && stamps.TryGetValue((rows[i].Partition, rows[i].NextToRead), out var oldest)) rows[i] = rows[i] with { OldestUnread = oldest };
        }
        return new LagSample(group, at, rows);
    }
}
