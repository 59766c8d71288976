using Pipeline.Consumers.TopK.Sketch;

namespace Pipeline.UnitTests.TopK;

/// <summary>
/// The Space-Saving policy of <see cref="SpaceSaving"/> written plainly, as the reference it must match update for
/// update: each key's count and error, and a stamp of when its count last changed; a full sketch evicts the key
/// with the smallest count whose count changed longest ago; entries are stored by count, then by stamp.
/// </summary>
internal sealed class ReferenceSpaceSaving(int capacity)
{
    private readonly Dictionary<string, (long Count, long Error, long Stamp)> _keys = new(StringComparer.Ordinal);
    private readonly SortedSet<(long Count, long Stamp, string Key)> _order = [];
    private long _clock;

    public int Capacity { get; } = capacity;

    public int Count => _keys.Count;

    public long Total { get; private set; }

    public long UntrackedMax => Count == Capacity ? _order.Min.Count : 0;

    public void Add(string key, long weight)
    {
        if (weight <= 0) return;
        Total += weight;
        if (_keys.TryGetValue(key, out var tracked))
        {
            Set(key, tracked.Count + weight, tracked.Error, tracked);
            return;
        }
        if (Count < Capacity)
        {
            Set(key, weight, 0, null);
            return;
        }
        var evicted = _order.Min;
        _order.Remove(evicted);
        _keys.Remove(evicted.Key);
        Set(key, evicted.Count + weight, evicted.Count, null);
    }

    private void Set(string key, long count, long error, (long Count, long Error, long Stamp)? was)
    {
        if (was is { } w) _order.Remove((w.Count, w.Stamp, key));
        var stamp = ++_clock;
        _keys[key] = (count, error, stamp);
        _order.Add((count, stamp, key));
    }

    /// <summary>Counts ascending, ties in the order they reached their count: the order the sketch stores.</summary>
    public IEnumerable<SketchEntry> StoredOrder() => _order.Select(o => new SketchEntry(o.Key, o.Count, _keys[o.Key].Error));

    public List<SketchEntry> Entries()
    {
        var list = StoredOrder().ToList();
        list.Sort(SketchEntry.ByCountDescending);
        return list;
    }
}
