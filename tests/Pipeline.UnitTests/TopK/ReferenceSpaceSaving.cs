using Pipeline.Consumers.TopK.Sketch;

namespace Pipeline.UnitTests.TopK;

/// <summary>
/// The Space-Saving sketch as it was before its index and heap were rebuilt for speed (a min-heap of node
/// objects and a <see cref="Dictionary{TKey, TValue}"/> from key to node), kept verbatim as the reference the
/// current <see cref="SpaceSaving"/> must match update for update, heap slot for heap slot.
/// </summary>
internal sealed class ReferenceSpaceSaving
{
    private readonly Dictionary<string, Node> _nodes;
    private readonly Dictionary<string, Node>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private Node[] _heap;
    private int _size;

    public ReferenceSpaceSaving(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        // The heap grows up to the capacity as keys arrive: most window × dimension × partition sketches stay small.
        _heap = new Node[Math.Min(capacity, 16)];
        _nodes = new Dictionary<string, Node>(_heap.Length, StringComparer.Ordinal);
        _lookup = _nodes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>Most keys tracked at once.</summary>
    public int Capacity { get; }

    /// <summary>Keys tracked now.</summary>
    public int Count => _size;

    /// <summary>Sum of every weight added (the N of the error bound).</summary>
    public long Total { get; private set; }

    /// <summary>True once every slot is taken: from then on an untracked key may have been seen (and evicted).</summary>
    public bool IsFull => _size == Capacity;

    /// <summary>
    /// The most an untracked key can have been counted: the smallest tracked count once the sketch is full
    /// (a key is only evicted when it holds the minimum, and the minimum never decreases), else 0.
    /// </summary>
    public long UntrackedMax => IsFull ? _heap[0].Count : 0;

    /// <summary>Adds <paramref name="weight"/> occurrences of <paramref name="key"/>.</summary>
    public void Add(ReadOnlySpan<char> key, long weight)
    {
        string? materialized = null;
        Add(key, weight, ref materialized);
    }

    /// <summary>
    /// Adds <paramref name="weight"/> occurrences of <paramref name="key"/>. When the key is not tracked it
    /// needs a string: <paramref name="materialized"/> is used if set, else set, so the sketches of several
    /// windows updated with the same key share one string.
    /// </summary>
    public void Add(ReadOnlySpan<char> key, long weight, ref string? materialized)
    {
        if (weight <= 0) return;
        Total += weight;
        if (_lookup.TryGetValue(key, out var node))
        {
            node.Count += weight;
            SiftDown(node.Slot);
            return;
        }
        AddUntracked(materialized ??= key.ToString(), weight);
    }

    /// <summary>Adds <paramref name="weight"/> occurrences of <paramref name="key"/>.</summary>
    public void Add(string key, long weight)
    {
        if (weight <= 0) return;
        Total += weight;
        if (_nodes.TryGetValue(key, out var node))
        {
            node.Count += weight;
            SiftDown(node.Slot);
            return;
        }
        AddUntracked(key, weight);
    }

    private void AddUntracked(string key, long weight)
    {
        if (_size < Capacity)
        {
            if (_size == _heap.Length) Array.Resize(ref _heap, Math.Min(Capacity, _heap.Length * 2));
            var added = new Node(key, weight, 0, _size);
            _heap[_size++] = added;
            _nodes.Add(key, added);
            SiftUp(added.Slot);
            return;
        }
        // Replace the minimum: the newcomer may have been among the evicted, so it inherits the minimum as its error.
        // The evicted node is reused: on a long tail most updates are replacements.
        var node = _heap[0];
        _nodes.Remove(node.Key);
        node.Key = key;
        node.Error = node.Count;
        node.Count += weight;
        _nodes.Add(key, node);
        SiftDown(0);
    }

    /// <summary>The tracked entries, largest count first (ties by key, ordinal).</summary>
    public List<SketchEntry> Entries()
    {
        var list = new List<SketchEntry>(_size);
        for (var i = 0; i < _size; i++) list.Add(_heap[i].Entry);
        list.Sort(SketchEntry.ByCountDescending);
        return list;
    }

    /// <summary>The entry of <paramref name="key"/>, if tracked.</summary>
    public SketchEntry? Find(string key) => _nodes.TryGetValue(key, out var node) ? node.Entry : null;

    /// <summary>
    /// The entry in heap slot <paramref name="slot"/> (0 to <see cref="Count"/> - 1): the codec stores entries in
    /// heap order, so a restore rebuilds the very same heap.
    /// </summary>
    internal SketchEntry AtSlot(int slot) => _heap[slot].Entry;

    /// <summary>
    /// Rebuilds a sketch from stored heap order. Entries beyond the capacity are dropped smallest first;
    /// they are at most the remaining minimum, so the bounds still hold.
    /// </summary>
    internal static ReferenceSpaceSaving Restore(int capacity, long total, IReadOnlyList<SketchEntry> heapOrder)
    {
        var sketch = new ReferenceSpaceSaving(capacity) { Total = total };
        if (heapOrder.Count <= capacity && IsMinHeap(heapOrder))
        {
            sketch._heap = new Node[Math.Max(sketch._heap.Length, heapOrder.Count)];
            for (var i = 0; i < heapOrder.Count; i++)
            {
                var e = heapOrder[i];
                var node = new Node(e.Key, e.Count, e.Error, i);
                sketch._heap[i] = node;
                sketch._nodes.Add(e.Key, node);
            }
            sketch._size = heapOrder.Count;
            return sketch;
        }
        // Not a heap as stored (written by another version, or a smaller capacity now): insert the largest entries.
        var kept = heapOrder.OrderByDescending(e => e.Count).ThenBy(e => e.Key, StringComparer.Ordinal).Take(capacity).ToList();
        sketch._heap = new Node[Math.Max(sketch._heap.Length, kept.Count)];
        foreach (var e in kept)
        {
            var node = new Node(e.Key, e.Count, e.Error, sketch._size);
            sketch._heap[sketch._size++] = node;
            sketch._nodes.Add(e.Key, node);
            sketch.SiftUp(node.Slot);
        }
        return sketch;
    }

    private static bool IsMinHeap(IReadOnlyList<SketchEntry> entries)
    {
        for (var i = 1; i < entries.Count; i++)
            if (entries[(i - 1) / 2].Count > entries[i].Count) return false;
        return true;
    }

    // Both sifts move a "hole" instead of swapping, so each step writes one slot.
    private void SiftUp(int slot)
    {
        var node = _heap[slot];
        while (slot > 0)
        {
            var parent = (slot - 1) / 2;
            var above = _heap[parent];
            if (above.Count <= node.Count) break;
            _heap[slot] = above;
            above.Slot = slot;
            slot = parent;
        }
        _heap[slot] = node;
        node.Slot = slot;
    }

    private void SiftDown(int slot)
    {
        var node = _heap[slot];
        while (true)
        {
            var left = 2 * slot + 1;
            if (left >= _size) break;
            var right = left + 1;
            var child = right < _size && _heap[right].Count < _heap[left].Count ? right : left;
            var below = _heap[child];
            if (node.Count <= below.Count) break;
            _heap[slot] = below;
            below.Slot = slot;
            slot = child;
        }
        _heap[slot] = node;
        node.Slot = slot;
    }

    private sealed class Node(string key, long count, long error, int slot)
    {
        public string Key = key;
        public long Count = count;
        public long Error = error;
        public int Slot = slot;
        public SketchEntry Entry => new(Key, Count, Error);
    }
}
