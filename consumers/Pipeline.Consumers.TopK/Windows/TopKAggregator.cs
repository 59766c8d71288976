using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Consumers.TopK.Sketch;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.TopK.Windows;

/// <summary>
/// The windowed heavy hitters of the partitions this member owns, in memory: for each source partition,
/// its open windows per granularity, and in each window one <see cref="SpaceSaving"/> sketch per dimension.
/// State is kept per source partition so that a partition's counts can be checkpointed, moved on a
/// rebalance and merged with other partitions' (other members') at query time.
/// <para>
/// Time: an event belongs to the windows holding its <c>received_at</c>. Each partition keeps a watermark
/// (the latest <c>received_at</c> seen); a window closes for that partition once the watermark passes its end
/// plus the allowed lateness, or — when the partition has been idle — once the wall clock does
/// (<see cref="CloseIdle"/>). Windows close in time order, so "closed through T" per granularity says it all:
/// an event whose window ends at or before T is late, counted as such, and never folded into another window.
/// The decisions depend only on the partition's own records (and, for idle partitions, on the clock), so a
/// replay from a checkpoint decides exactly as the first pass did.
/// </para>
/// Not thread-safe: the sink serialises every call.
/// </summary>
internal sealed class TopKAggregator
{
    private readonly AggregatorSettings _settings;
    private readonly Dimension[] _dimensions;
    private readonly Granularity[] _granularities;
    private readonly KeyExtractor _keys;
    private readonly EnvelopeScanner _scanner;
    private readonly ScannedEvent _event;
    private readonly Dictionary<PartitionKey, PartitionState> _partitions = [];
    private readonly WindowState?[] _targets;
    private readonly long[] _sizeTicks;
    // The partition of the previous record: a batch brings each partition's records together, so most records skip
    // the lookup (which hashes the topic name).
    private PartitionState? _last;
    private readonly AggregatorCheckpoints _checkpoints;

    public TopKAggregator(AggregatorSettings settings)
    {
        _settings = settings;
        _dimensions = [.. settings.Dimensions];
        _granularities = [.. settings.Granularities];
        _keys = new KeyExtractor(_dimensions, settings.MaxKeyLength);
        (_scanner, _event) = _keys.NewScanner();
        _targets = new WindowState?[_granularities.Length];
        _sizeTicks = [.. _granularities.Select(g => g.Size.Ticks)];
        _checkpoints = new AggregatorCheckpoints(_partitions, _dimensions, _granularities, settings.Capacity);
    }

    public IReadOnlyList<Dimension> Dimensions => _dimensions;
    public IReadOnlyList<Granularity> Granularities => _granularities;
    public AggregatorSettings Settings => _settings;
    public IReadOnlyCollection<PartitionKey> Partitions => _partitions.Keys;

    public PartitionState? Find(PartitionKey key) => _partitions.GetValueOrDefault(key);

    /// <summary>Starts a partition with no stored state (a group's first read of it).</summary>
    public PartitionState Track(PartitionKey key, DateTimeOffset now)
    {
        if (!_partitions.TryGetValue(key, out var state))
        {
            state = new PartitionState(key, _granularities.Length) { LastActivity = now };
            _partitions[key] = state;
        }
        return state;
    }

    /// <summary>Replaces a partition's state with what was checkpointed.</summary>
    public PartitionState Restore(StoredPartition stored, DateTimeOffset now)
    {
        var state = new PartitionState(stored.Key, _granularities.Length)
        {
            NextOffset = stored.NextOffset ?? -1,
            Epoch = stored.Epoch,
            Watermark = stored.Watermark,
            // Idle is measured from now: after a restart or a rebalance, the backlog has not been fetched yet.
            LastActivity = now,
        };
        for (var g = 0; g < _granularities.Length; g++)
            if (stored.ClosedThrough.TryGetValue(_granularities[g].Seconds, out var through)) state.ClosedThrough[g] = through.UtcTicks;
        var dimensionIndex = _dimensions.Select((d, i) => (d.Name, i)).ToDictionary(x => x.Name, x => x.i, StringComparer.Ordinal);
        foreach (var partial in stored.Open)
        {
            var g = Array.FindIndex(_granularities, x => x.Seconds == partial.GranularitySeconds);
            // A dimension or window size no longer configured: its rows stay in the store, untouched.
            if (g < 0 || !dimensionIndex.TryGetValue(partial.Dimension, out var d)) continue;
            var start = partial.WindowStart.UtcTicks;
            if (start + _granularities[g].Size.Ticks <= state.ClosedThrough[g]) continue;
            var window = state.Window(g, start, _dimensions.Length);
            window.Events = Math.Max(window.Events, partial.Events);
            window.Sketches[d] = SketchCodec.Decode(partial.Sketch);
        }
        _partitions[stored.Key] = state;
        _last = null;
        return state;
    }

    public void Drop(PartitionKey key)
    {
        _partitions.Remove(key);
        _last = null;
    }

    public void DropAll()
    {
        _partitions.Clear();
        _last = null;
    }

    /// <summary>
    /// Counts one record of <paramref name="partition"/>. Returns false when the record is not a v1 envelope
    /// with an id and a <c>received_at</c> (the caller treats it as poison). A record below the partition's
    /// checkpointed offset was counted already and is skipped.
    /// </summary>
    public bool Apply(PartitionKey partition, long offset, ReadOnlySpan<byte> value, DateTimeOffset now, ApplyStats stats)
    {
        var state = _last is { } last && last.Key == partition ? last : _partitions.GetValueOrDefault(partition) ?? Track(partition, now);
        _last = state;
        stats.Records++;
        if (offset < state.NextOffset)
        {
            stats.Duplicates++;
            return true;
        }
        if (!_scanner.Scan(value, _event) || _event.ReceivedAt is not { } at) return false;
        state.NextOffset = offset + 1;
        state.LastActivity = now;
        state.ProgressDirty = true;
        if (at > now + _settings.MaxClockSkew)
        {
            stats.Future++;
            return true;
        }
        // An event kept 1 in N at the edge stands for N events.
        var weight = (long)Math.Max(1, _event.SampleRate);
        AdvanceWatermark(state, at);

        var any = false;
        var ticks = at.UtcTicks;
        for (var g = 0; g < _granularities.Length; g++)
        {
            // Consecutive events nearly always fall in the window of the one before, which is open (a closed window is
            // forgotten as the recent one): no division to find the start, no lateness check.
            var window = state.Recent(g);
            if (window is null || ticks < window.StartTicks || ticks - window.StartTicks >= _sizeTicks[g])
            {
                var start = _granularities[g].StartTicks(ticks);
                if (start + _sizeTicks[g] <= state.ClosedThrough[g])
                {
                    state.AddLate(g, start, weight);
                    stats.Late[g] += weight;
                    _targets[g] = null;
                    continue;
                }
                window = state.Window(g, start, _dimensions.Length);
            }
            window.Events += weight;
            window.Dirty = true;
            stats.Counted[g] += weight;
            _targets[g] = window;
            any = true;
        }
        if (!any) return true;

        for (var d = 0; d < _dimensions.Length; d++)
        {
            var key = _keys.KeyOf(d, _event);
            if (key.IsEmpty) continue;
            var added = _keys.WeightOf(d, _event, weight);
            if (added == 0) continue;
            // One hash per key, whatever the number of windows it goes into.
            var hash = SpaceSaving.Hash(key);
            for (var g = 0; g < _targets.Length; g++)
                _targets[g]?.Sketch(d, _settings.Capacity).Add(key, hash, added);
        }
        return true;
    }

    /// <summary>Sets the next offsets a batch ends at (they also cover records sent to the dead-letter topic).</summary>
    public void Advance(IReadOnlyDictionary<PartitionKey, long> nextOffsets)
    {
        foreach (var (key, next) in nextOffsets)
        {
            // Partitions this member does not hold are not its to record.
            if (!_partitions.TryGetValue(key, out var state) || next <= state.NextOffset) continue;
            state.NextOffset = next;
            state.ProgressDirty = true;
        }
    }

    /// <summary>
    /// Closes, on the wall clock, the due windows of partitions that delivered nothing for
    /// <paramref name="idleTimeout"/>: a quiet stream must not hold a result back. Returns the windows closed.
    /// </summary>
    public int CloseIdle(DateTimeOffset now, TimeSpan idleTimeout)
    {
        var closed = 0;
        foreach (var state in _partitions.Values)
        {
            if (now - state.LastActivity < idleTimeout) continue;
            closed += CloseThrough(state, now - _settings.AllowedLateness);
        }
        return closed;
    }

    private void AdvanceWatermark(PartitionState state, DateTimeOffset at)
    {
        if (state.Watermark is { } seen && seen >= at) return;
        state.Watermark = at;
        CloseThrough(state, at - _settings.AllowedLateness);
    }

    /// <summary>Closes every window of <paramref name="state"/> that ends at or before the window boundary under <paramref name="time"/>.</summary>
    private int CloseThrough(PartitionState state, DateTimeOffset time)
    {
        var closed = 0;
        for (var g = 0; g < _granularities.Length; g++)
        {
            // Closed-through values are window boundaries: nothing more closes before a whole window past the last one.
            var closedThrough = state.ClosedThrough[g];
            if (closedThrough != long.MinValue && time.UtcTicks - closedThrough < _sizeTicks[g]) continue;
            var boundary = _granularities[g].StartTicks(time);
            if (boundary <= closedThrough) continue;
            state.ClosedThrough[g] = boundary;
            state.ProgressDirty = true;
            var open = state.Open[g];
            if (open.Count == 0) continue;
            List<long>? due = null;
            foreach (var (start, _) in open)
                if (start + _granularities[g].Size.Ticks <= boundary) (due ??= []).Add(start);
            if (due is null) continue;
            foreach (var start in due)
            {
                state.Close(g, start);
                closed++;
            }
        }
        return closed;
    }

    /// <summary>
    /// What changed since the last checkpoint, encoded for the store: dirty open windows, windows closed
    /// since, late counts, progress and the next offsets. <see cref="Checkpointed"/> clears it once stored.
    /// </summary>
    public Checkpoint TakeCheckpoint(DateTimeOffset now) => _checkpoints.Take(now);

    /// <summary>The last checkpoint is stored: forget what it carried.</summary>
    public void Checkpointed() => _checkpoints.Checkpointed();

    /// <summary>
    /// A checkpoint taken earlier whose commit got no answer turned out to be stored: what it carried that adds up
    /// in the store (late counts) and the windows it closed are no longer pending. Changes since stay pending.
    /// </summary>
    public void Stored(Checkpoint carried) => _checkpoints.Stored(carried);

    /// <summary>Merges what this aggregator holds in memory for one window and dimension over every partition (tests, the benchmark).</summary>
    public MergedSketch MergeInMemory(string dimension, Granularity granularity, DateTimeOffset at)
    {
        var d = Array.FindIndex(_dimensions, x => x.Name == dimension);
        var g = Array.IndexOf(_granularities, granularity);
        if (d < 0 || g < 0) throw new ArgumentException($"no dimension {dimension} or window {granularity}");
        var start = granularity.StartTicks(at);
        var parts = new List<PartialSketch>();
        foreach (var state in _partitions.Values.OrderBy(s => s.Key.Topic, StringComparer.Ordinal).ThenBy(s => s.Key.Partition))
        {
            var window = state.Open[g].GetValueOrDefault(start) ?? state.PendingClose.Find(w => w.Granularity == g && w.StartTicks == start);
            if (window?.Sketches[d] is { } sketch) parts.Add(PartialSketch.Of(sketch));
        }
        return SketchMerge.Merge(parts);
    }

    /// <summary>Open windows and tracked keys over every partition held (for the gauges).</summary>
    public (int Windows, long Entries) Size()
    {
        var windows = 0;
        var entries = 0L;
        foreach (var state in _partitions.Values)
            foreach (var open in state.Open)
                foreach (var window in open.Values)
                {
                    windows++;
                    foreach (var sketch in window.Sketches) entries += sketch?.Count ?? 0;
                }
        return (windows, entries);
    }
}
