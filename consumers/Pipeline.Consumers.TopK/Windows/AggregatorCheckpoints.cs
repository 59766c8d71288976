using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Sketch;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.TopK.Windows;

/// <summary>
/// The aggregator's checkpoints: what changed in its partitions since the last one, encoded for the store, and the
/// bookkeeping once a checkpoint is stored. Apart from <see cref="TopKAggregator"/> because it runs once per write,
/// not per event, and reads the partitions' state without changing the counts.
/// </summary>
internal sealed class AggregatorCheckpoints(IReadOnlyDictionary<PartitionKey, PartitionState> partitions, Dimension[] dimensions,
    Granularity[] granularities, int capacity)
{
    private readonly Dimension[] _dimensions = dimensions;
    private readonly Granularity[] _granularities = granularities;
    private readonly int _capacity = capacity;
    // Every window writes a row per dimension, a sketch with no key seen included.
    private readonly byte[] _emptySketch = SketchCodec.Encode(new SpaceSaving(capacity));

    /// <summary>
    /// What changed since the last checkpoint, encoded for the store: dirty open windows, windows closed
    /// since, late counts, progress and the next offsets. <see cref="Checkpointed"/> clears it once stored.
    /// </summary>
    public Checkpoint Take(DateTimeOffset now)
    {
        var partials = new List<PartialRow>();
        var late = new List<LateRow>();
        var progress = new List<ProgressRow>();
        foreach (var state in partitions.Values)
        {
            var before = partials.Count;
            for (var g = 0; g < _granularities.Length; g++)
                foreach (var window in state.Open[g].Values)
                    if (window.Dirty) AddRows(partials, state, window, closed: false);
            foreach (var window in state.PendingClose) AddRows(partials, state, window, closed: true);
            foreach (var ((g, start), weight) in state.PendingLate)
                late.Add(new LateRow(state.Key, _granularities[g].Seconds, new DateTimeOffset(start, TimeSpan.Zero), weight));
            // Every write of a partition carries its epoch (the store fences on it), so progress goes with any change.
            if (state.ProgressDirty || partials.Count > before || state.PendingLate.Count > 0)
            {
                for (var g = 0; g < _granularities.Length; g++)
                    progress.Add(new ProgressRow(state.Key, state.Epoch, _granularities[g].Seconds, state.Watermark,
                        state.ClosedThrough[g] == long.MinValue ? null : new DateTimeOffset(state.ClosedThrough[g], TimeSpan.Zero),
                        state.NextOffset));
            }
        }
        return new Checkpoint(partials, late, progress, now);
    }

    private void AddRows(List<PartialRow> rows, PartitionState state, WindowState window, bool closed)
    {
        var g = _granularities[window.Granularity];
        var start = new DateTimeOffset(window.StartTicks, TimeSpan.Zero);
        for (var d = 0; d < _dimensions.Length; d++)
        {
            var sketch = window.Sketches[d];
            // Every dimension gets a row, even with no key seen: the window's event count and "nothing seen" are answers too.
            rows.Add(sketch is null
                ? new PartialRow(state.Key, g.Seconds, start, _dimensions[d].Name, window.Events, 0, _capacity, _emptySketch, closed)
                : new PartialRow(state.Key, g.Seconds, start, _dimensions[d].Name, window.Events, sketch.Total, sketch.Capacity, SketchCodec.Encode(sketch), closed));
        }
    }

    /// <summary>The last checkpoint is stored: forget what it carried.</summary>
    public void Checkpointed()
    {
        foreach (var state in partitions.Values)
        {
            for (var g = 0; g < _granularities.Length; g++)
                foreach (var window in state.Open[g].Values) window.Dirty = false;
            state.PendingClose.Clear();
            state.PendingLate.Clear();
            state.ProgressDirty = false;
        }
    }

    /// <summary>
    /// A checkpoint taken earlier whose commit got no answer turned out to be stored: what it carried that adds up
    /// in the store (late counts) and the windows it closed are no longer pending. Changes since stay pending.
    /// </summary>
    public void Stored(Checkpoint carried)
    {
        foreach (var late in carried.Late)
        {
            if (!partitions.TryGetValue(late.Partition, out var state)) continue;
            var key = (Array.FindIndex(_granularities, x => x.Seconds == late.GranularitySeconds), late.WindowStart.UtcTicks);
            if (!state.PendingLate.TryGetValue(key, out var pending)) continue;
            if (pending <= late.Weight) state.PendingLate.Remove(key);
            else state.PendingLate[key] = pending - late.Weight;
        }
        foreach (var row in carried.Partials)
        {
            if (!row.Closed || !partitions.TryGetValue(row.Partition, out var state)) continue;
            state.PendingClose.RemoveAll(w => _granularities[w.Granularity].Seconds == row.GranularitySeconds && w.StartTicks == row.WindowStart.UtcTicks);
        }
    }
}
