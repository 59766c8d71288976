using System.IO.Hashing;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>
/// The Space-Saving heavy-hitter sketch (Metwally, Agrawal, El Abbadi 2005) with weighted updates: at most
/// <see cref="Capacity"/> keys are tracked, each with a count that never underestimates and an error that
/// bounds the overestimate (<c>count - error &lt;= true count &lt;= count</c>). When the sketch is full an
/// untracked key replaces the key with the smallest count and inherits that count as its error, so any
/// key's overestimate is at most <c>Total / Capacity</c>, and any key with a true count above that is tracked.
/// <para>
/// Layout, for the hot path (every event updates one sketch per window and dimension): the entries form a
/// binary min-heap by count kept in arrays of structs — the heap as (count, entry) pairs, so a sift reads one
/// array; the entries as (error, where the key is, hash) and each entry's heap slot — a <see cref="SketchIndex"/> from key hash to
/// entry, and the keys' UTF-8 in a <see cref="KeyArena"/>, not in strings. The caller hashes a key once
/// (<see cref="Hash"/>) for the sketches of every window it updates, and lookups take the key's UTF-8 as the
/// envelope carried it: an update allocates nothing, whether the key is tracked or replaces another.
/// </para>
/// <para>
/// The heap is the same as the one of node objects this replaced, comparison for comparison: the heap
/// layout is what <see cref="SketchCodec"/> stores, and a restored sketch continues exactly as the
/// original would have, ties included (a replay after a restore counts the same as an uninterrupted run).
/// A unit test holds it to the former implementation, slot by slot.
/// </para>
/// Not thread-safe: one sketch belongs to one partition's state, which one thread updates at a time.
/// </summary>
internal sealed class SpaceSaving
{
    // Entries, numbered 0 to _size - 1 (an evicted entry's number is reused by its replacement): what a lookup
    // needs (hash, where the key is) sits together, one cache line.
    private Entry[] _entries;
    // Each entry's heap slot, apart from the entries: a sift rewrites one per level, and 4 bytes an entry keep
    // those writes within a few cache lines.
    private int[] _slotOf;
    private readonly KeyArena _keys;
    // The heap by slot: count and entry number together, so a sift reads one array.
    private HeapSlot[] _heap;
    private SketchIndex _index;
    private int _size;

    public SpaceSaving(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        // The arrays grow up to the capacity as keys arrive: most window × dimension × partition sketches stay small.
        var room = Math.Min(capacity, 16);
        _entries = new Entry[room];
        _slotOf = new int[room];
        _heap = new HeapSlot[room];
        _index = new SketchIndex(room);
        _keys = new KeyArena(room * 16);
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

    // Per process, as string hashes are: which keys share an index run cannot be chosen from outside.
    private static readonly long HashSeed = Random.Shared.NextInt64();

    /// <summary>
    /// The hash every sketch files the UTF-8 <paramref name="key"/> under: XXH3, seeded per process. Every key of every
    /// event is hashed once; the string hash (Marvin) took about a sixth of the whole update, XXH3 a fraction of that.
    /// </summary>
    public static int Hash(ReadOnlySpan<byte> key) => (int)XxHash3.HashToUInt64(key, HashSeed);

    /// <summary>Adds <paramref name="weight"/> occurrences of the UTF-8 <paramref name="key"/>.</summary>
    public void Add(ReadOnlySpan<byte> key, long weight) => Add(key, Hash(key), weight);

    /// <summary>Adds <paramref name="weight"/> occurrences of <paramref name="key"/> (for tests and tools: it encodes the key).</summary>
    public void Add(string key, long weight) => Add(Encoding.UTF8.GetBytes(key), weight);

    /// <summary>Adds <paramref name="weight"/> occurrences of the UTF-8 <paramref name="key"/>, whose <see cref="Hash"/> is <paramref name="hash"/>.</summary>
    public void Add(ReadOnlySpan<byte> key, int hash, long weight)
    {
        if (weight <= 0) return;
        Total += weight;
        var entry = Find(key, hash);
        if (entry >= 0)
        {
            var slot = _slotOf[entry];
            _heap[slot].Count += weight;
            // Half the slots are leaves, and heavy keys (the ones updated most) sit low: nothing to move there.
            if (2 * slot + 1 < _size) SiftDown(slot);
            return;
        }
        AddUntracked(key, hash, weight);
    }

    private void AddUntracked(ReadOnlySpan<byte> key, int hash, long weight)
    {
        if (_size < Capacity)
        {
            if (_size == _entries.Length) Grow(Math.Min(Capacity, _entries.Length * 2));
            var added = _size;
            _entries[added] = new Entry { Key = AppendKey(key), Hash = hash };
            _slotOf[added] = added;
            _size++;
            _heap[added] = new HeapSlot { Count = weight, Entry = added };
            Insert(added);
            SiftUp(added);
            return;
        }
        // Replace the minimum: the newcomer may have been among the evicted, so it inherits the minimum as its error.
        var entry = _heap[0].Entry;
        Remove(entry);
        ref var replaced = ref _entries[entry];
        if (!_keys.TryOverwrite(ref replaced.Key, key))
        {
            _keys.Release(ref replaced.Key);
            replaced.Key = AppendKey(key);
        }
        replaced.Hash = hash;
        replaced.Error = _heap[0].Count;
        _heap[0].Count += weight;
        Insert(entry);
        SiftDown(0);
    }

    /// <summary>The tracked entries, largest count first (ties by key, ordinal).</summary>
    public List<SketchEntry> Entries()
    {
        var list = new List<SketchEntry>(_size);
        for (var i = 0; i < _size; i++) list.Add(AtSlot(i));
        list.Sort(SketchEntry.ByCountDescending);
        return list;
    }

    /// <summary>The entry of <paramref name="key"/>, if tracked.</summary>
    public SketchEntry? Find(string key)
    {
        var utf8 = Encoding.UTF8.GetBytes(key);
        return Find(utf8, Hash(utf8)) is var entry and >= 0 ? AtSlot(_slotOf[entry]) : null;
    }

    /// <summary>The UTF-8 key in heap slot <paramref name="slot"/>, valid until the next update (the codec writes it as it is).</summary>
    internal ReadOnlySpan<byte> KeyAtSlot(int slot) => _keys.Text(in _entries[_heap[slot].Entry].Key);

    /// <summary>Bytes the key arena holds, live or not (tests hold its growth to what is live).</summary>
    internal int KeyBytesReserved => _keys.Reserved;

    /// <summary>UTF-8 bytes the tracked keys hold.</summary>
    internal int KeyBytesLive => _keys.Live;

    /// <summary>The count in heap slot <paramref name="slot"/>.</summary>
    internal long CountAtSlot(int slot) => _heap[slot].Count;

    /// <summary>The error in heap slot <paramref name="slot"/>.</summary>
    internal long ErrorAtSlot(int slot) => _entries[_heap[slot].Entry].Error;

    /// <summary>
    /// The entry in heap slot <paramref name="slot"/> (0 to <see cref="Count"/> - 1): the codec stores entries in
    /// heap order, so a restore rebuilds the very same heap.
    /// </summary>
    internal SketchEntry AtSlot(int slot)
    {
        ref var entry = ref _entries[_heap[slot].Entry];
        return new SketchEntry(Encoding.UTF8.GetString(_keys.Text(in entry.Key)), _heap[slot].Count, entry.Error);
    }

    /// <summary>
    /// Rebuilds a sketch from stored heap order. Entries beyond the capacity are dropped smallest first;
    /// they are at most the remaining minimum, so the bounds still hold.
    /// </summary>
    internal static SpaceSaving Restore(int capacity, long total, IReadOnlyList<SketchEntry> heapOrder)
    {
        var sketch = new SpaceSaving(capacity) { Total = total };
        var asStored = heapOrder.Count <= capacity && IsMinHeap(heapOrder);
        // Not a heap as stored (written by another version, or a smaller capacity now): insert the largest entries.
        var kept = asStored ? heapOrder
            : heapOrder.OrderByDescending(e => e.Count).ThenBy(e => e.Key, StringComparer.Ordinal).Take(capacity).ToList();
        if (kept.Count > sketch._entries.Length) sketch.Grow(kept.Count);
        foreach (var e in kept)
        {
            // Stored keys are UTF-8 written from valid text: they come back as they were stored.
            var key = Encoding.UTF8.GetBytes(e.Key);
            var hash = Hash(key);
            if (sketch.Find(key, hash) >= 0) throw new InvalidDataException($"sketch holds key '{e.Key}' twice");
            var added = sketch._size;
            sketch._entries[added] = new Entry { Key = sketch.AppendKey(key), Hash = hash, Error = e.Error };
            sketch._slotOf[added] = added;
            sketch._size++;
            sketch._heap[added] = new HeapSlot { Count = e.Count, Entry = added };
            sketch.Insert(added);
            if (!asStored) sketch.SiftUp(added);
        }
        return sketch;
    }

    private static bool IsMinHeap(IReadOnlyList<SketchEntry> entries)
    {
        for (var i = 1; i < entries.Count; i++)
            if (entries[(i - 1) / 2].Count > entries[i].Count) return false;
        return true;
    }

    private void Grow(int room)
    {
        Array.Resize(ref _entries, room);
        Array.Resize(ref _slotOf, room);
        Array.Resize(ref _heap, room);
        _index.Resize(room);
        for (var entry = 0; entry < _size; entry++) Insert(entry);
    }

    private int Find(ReadOnlySpan<byte> key, int hash)
    {
        // Another key under the same hash is rare: the first candidate is nearly always the answer.
        for (var entry = _index.First(hash, out var at); entry >= 0; entry = _index.Next(hash, ref at))
            if (_keys.Holds(in _entries[entry].Key, key)) return entry;
        return -1;
    }

    private void Insert(int entry) => _index.Insert(_entries[entry].Hash, entry);

    private void Remove(int entry) => _index.Remove(_entries[entry].Hash, entry);

    // Both sifts move a "hole" instead of swapping, so each step writes one slot.
    private void SiftUp(int slot)
    {
        var moving = _heap[slot];
        while (slot > 0)
        {
            var parent = (slot - 1) / 2;
            if (_heap[parent].Count <= moving.Count) break;
            Move(parent, slot);
            slot = parent;
        }
        Place(moving, slot);
    }

    private void SiftDown(int slot)
    {
        // The hot loop of an eviction (a newcomer goes down from the root past every key at the minimum, 7 levels on
        // average in a sketch of 1,000): no bounds checks (every slot below _size is inside both arrays) and the
        // smaller child picked without a branch, which a Zipf tail makes unpredictable. Ties go left, as always.
        ref var heap = ref MemoryMarshal.GetArrayDataReference(_heap);
        ref var slotOf = ref MemoryMarshal.GetArrayDataReference(_slotOf);
        var size = _size;
        var moving = Unsafe.Add(ref heap, slot);
        while (true)
        {
            var left = 2 * slot + 1;
            if (left + 1 >= size)
            {
                // One child at most: the last level.
                if (left < size && Unsafe.Add(ref heap, left).Count < moving.Count)
                {
                    Unsafe.Add(ref heap, slot) = Unsafe.Add(ref heap, left);
                    Unsafe.Add(ref slotOf, Unsafe.Add(ref heap, slot).Entry) = slot;
                    slot = left;
                }
                break;
            }
            var leftCount = Unsafe.Add(ref heap, left).Count;
            var rightCount = Unsafe.Add(ref heap, left + 1).Count;
            if (moving.Count <= Math.Min(leftCount, rightCount)) break;
            var child = left + (rightCount < leftCount ? 1 : 0);
            ref var up = ref Unsafe.Add(ref heap, slot);
            up = Unsafe.Add(ref heap, child);
            Unsafe.Add(ref slotOf, up.Entry) = slot;
            slot = child;
        }
        Unsafe.Add(ref heap, slot) = moving;
        Unsafe.Add(ref slotOf, moving.Entry) = slot;
    }

    private void Move(int from, int to)
    {
        _heap[to] = _heap[from];
        _slotOf[_heap[to].Entry] = to;
    }

    private void Place(HeapSlot moving, int slot)
    {
        _heap[slot] = moving;
        _slotOf[moving.Entry] = slot;
    }

    /// <summary>Appends a key to the arena, compacting it first if it is full (every entry below _size is live).</summary>
    private KeyText AppendKey(ReadOnlySpan<byte> key)
    {
        if (!_keys.Fits(key.Length))
        {
            var table = new EntryKeys(_entries);
            _keys.Compact(ref table, _size, key.Length);
        }
        return _keys.Append(key);
    }

    private readonly struct EntryKeys(Entry[] entries) : IKeyTable
    {
        public ref KeyText KeyOf(int i) => ref entries[i].Key;
    }

    // 24 bytes: the error first, so that no padding falls between the key's ints and it.
    private struct Entry
    {
        public long Error;
        public KeyText Key;
        public int Hash;
    }

    private struct HeapSlot
    {
        public long Count;
        public int Entry;
    }
}
