using Pipeline.Consumers.TopK.Sketch;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.TopK.Windows;

/// <summary>One source partition's windows and clock.</summary>
internal sealed class PartitionState
{
    private readonly WindowState?[] _recent;

    public PartitionState(PartitionKey key, int granularities)
    {
        Key = key;
        ClosedThrough = new long[granularities];
        Array.Fill(ClosedThrough, long.MinValue);
        Open = new Dictionary<long, WindowState>[granularities];
        for (var g = 0; g < granularities; g++) Open[g] = [];
        _recent = new WindowState?[granularities];
    }

    public PartitionKey Key { get; }

    /// <summary>The next offset to count; records below it were counted already. -1 before the first.</summary>
    public long NextOffset { get; set; } = -1;

    /// <summary>This member's ownership epoch of the partition in the store (fencing a member that lost it).</summary>
    public long Epoch { get; set; }

    /// <summary>The latest <c>received_at</c> seen (event time).</summary>
    public DateTimeOffset? Watermark { get; set; }

    /// <summary>Wall-clock time of the last record read (or of the assignment).</summary>
    public DateTimeOffset LastActivity { get; set; }

    /// <summary>Per granularity: every window ending at or before this (UTC ticks) is closed.</summary>
    public long[] ClosedThrough { get; }

    /// <summary>Per granularity: open windows by start (UTC ticks).</summary>
    public Dictionary<long, WindowState>[] Open { get; }

    /// <summary>Windows closed since the last checkpoint, to be stored as closed.</summary>
    public List<WindowState> PendingClose { get; } = [];

    /// <summary>Late weight per (granularity, window start) since the last checkpoint.</summary>
    public Dictionary<(int Granularity, long Start), long> PendingLate { get; } = [];

    public bool ProgressDirty { get; set; }

    /// <summary>The window of <paramref name="granularity"/> the last event went into, while it is open.</summary>
    public WindowState? Recent(int granularity) => _recent[granularity];

    public WindowState Window(int granularity, long start, int dimensions)
    {
        if (_recent[granularity] is { } recent && recent.StartTicks == start) return recent;
        var open = Open[granularity];
        if (!open.TryGetValue(start, out var window))
        {
            window = new WindowState(granularity, start, dimensions);
            open[start] = window;
        }
        _recent[granularity] = window;
        return window;
    }

    /// <summary>Moves an open window to <see cref="PendingClose"/>.</summary>
    public void Close(int granularity, long start)
    {
        if (!Open[granularity].Remove(start, out var window)) return;
        PendingClose.Add(window);
        if (_recent[granularity] == window) _recent[granularity] = null;
    }

    public void AddLate(int granularity, long start, long weight)
    {
        ref var slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(PendingLate, (granularity, start), out _);
        slot += weight;
    }
}

/// <summary>One window of one partition: a sketch per dimension (created on the first key).</summary>
internal sealed class WindowState(int granularity, long startTicks, int dimensions)
{
    public int Granularity { get; } = granularity;
    public long StartTicks { get; } = startTicks;
    public SpaceSaving?[] Sketches { get; } = new SpaceSaving?[dimensions];

    /// <summary>Weighted events counted into this window (whatever dimensions they had).</summary>
    public long Events { get; set; }

    public bool Dirty { get; set; }

    public SpaceSaving Sketch(int dimension, int capacity) => Sketches[dimension] ??= new SpaceSaving(capacity);
}
