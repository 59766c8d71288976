namespace Pipeline.Consumers.TopK.Windows;

/// <summary>Counts of what happened to the records of one batch (for metrics).</summary>
internal sealed class ApplyStats(int granularities)
{
    public long Records;
    public long Duplicates;
    public long Future;
    /// <summary>Weighted events counted into a window, per granularity.</summary>
    public long[] Counted { get; } = new long[granularities];
    /// <summary>Weighted events whose window had already closed, per granularity.</summary>
    public long[] Late { get; } = new long[granularities];
}
