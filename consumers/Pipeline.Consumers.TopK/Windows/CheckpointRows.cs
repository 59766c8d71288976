using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.TopK.Windows;

/// <summary>A partition's state as the store returns it.</summary>
internal sealed record StoredPartition(
    PartitionKey Key, long? NextOffset, long Epoch, DateTimeOffset? Watermark,
    IReadOnlyDictionary<int, DateTimeOffset> ClosedThrough, IReadOnlyList<StoredPartial> Open);

/// <summary>An open window's sketch of one dimension, as stored.</summary>
internal sealed record StoredPartial(int GranularitySeconds, DateTimeOffset WindowStart, string Dimension, long Events, byte[] Sketch);

/// <summary>A row of <c>topk_windows</c>: one window, dimension and source partition.</summary>
internal sealed record PartialRow(
    PartitionKey Partition, int GranularitySeconds, DateTimeOffset WindowStart, string Dimension,
    long Events, long Total, int Capacity, byte[] Sketch, bool Closed);

/// <summary>Late weight to add to a window of a partition.</summary>
internal sealed record LateRow(PartitionKey Partition, int GranularitySeconds, DateTimeOffset WindowStart, long Weight);

/// <summary>A partition's clock per granularity, and its next offset.</summary>
internal sealed record ProgressRow(
    PartitionKey Partition, long Epoch, int GranularitySeconds, DateTimeOffset? Watermark, DateTimeOffset? ClosedThrough, long NextOffset);

/// <summary>Everything one checkpoint transaction stores.</summary>
internal sealed record Checkpoint(IReadOnlyList<PartialRow> Partials, IReadOnlyList<LateRow> Late, IReadOnlyList<ProgressRow> Progress, DateTimeOffset At)
{
    public bool IsEmpty => Partials.Count == 0 && Late.Count == 0 && Progress.Count == 0;
}
