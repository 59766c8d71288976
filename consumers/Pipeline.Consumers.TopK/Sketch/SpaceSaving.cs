using System.IO.Hashing;
using System.Text;

namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>
/// The Space-Saving heavy-hitter sketch (Metwally, Agrawal, El Abbadi 2005) with weighted updates: at most
/// <see cref="Capacity"/> keys are tracked, each with a count that never underestimates and an error that
/// bounds the overestimate (<c>count - error &lt;= true count &lt;= count</c>). When the sketch is full an
/// untracked key replaces a key with the smallest count and inherits that count as its error, so any
/// key's overestimate is at most <c>Total / Capacity</c>, and any key with a true count above that is tracked.
/// <para>
/// Layout, for the hot path (every event updates one sketch per window and dimension): the entries' order by count
/// is a <see cref="CountBuckets"/> (a bucket per count, where a heap sifted an evicting newcomer down past every key
/// tied at the minimum, 7 levels on average in a sketch of 1,000 on a long tail, where most updates evict); a full
/// sketch evicts the key that has held the minimum longest. The entries are an array of structs (error, where the
/// key is, hash), a <see cref="SketchIndex"/> maps key hash to entry, and the keys' UTF-8 lives in a
/// <see cref="KeyArena"/>, not in strings. The caller hashes a key once (<see cref="Hash"/>) for the sketches of
/// every window it updates, and lookups take the key's UTF-8 as the envelope carried it: an update allocates
/// nothing, whether the key is tracked or replaces another.
/// </para>
/// <para>
/// <see cref="SketchCodec"/> stores the entries in that order (counts ascending, ties in bucket order), and a
/// restore rebuilds the same buckets: a restored sketch continues exactly as the original would have, ties
/// included (a replay after a restore counts the same as an uninterrupted run). A unit test holds the
/// structure to a plain reference of the same policy, update for update.
/// </para>
/// Not thread-safe: one sketch belongs to one partition's state, which one thread updates at a time.
/// </summary>
internal sealed class SpaceSaving
{
    private const int None = CountBuckets.None;

    // Entries, numbered 0 to _size - 1 (an evicted entry's number is reused by its replacement): what a lookup
    // needs (hash, where the key is) and the entry's place among the counts sit together.
    private Entry[] _entries;
    private readonly CountBuckets _counts;
    private readonly KeyArena _keys;
    private SketchIndex _index;
    private int _size;

    public SpaceSaving(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        // The arrays grow up to the capacity as keys arrive: most window × dimension × partition sketches stay small.
        var room = Math.Min(capacity, 16);
        _entries = new Entry[room];
        _counts = new CountBuckets(room);
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
    public long UntrackedMax => IsFull ? _counts.MinCount : 0;

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
        // Refused before anything changes (the aggregator's keys are far shorter: it cuts them at TopK:MaxKeyLength).
        KeyArena.ThrowIfTooLong(key.Length);
        Total += weight;
        var entry = Find(key, hash);
        if (entry >= 0) _counts.Raise(new EntryLinks(_entries), entry, weight);
        else AddUntracked(key, hash, weight);
    }

    private void AddUntracked(ReadOnlySpan<byte> key, int hash, long weight)
    {
        if (_size < Capacity)
        {
            if (_size == _entries.Length) Grow(Math.Min(Capacity, _entries.Length * 2));
            var added = _size;
            _entries[added] = new Entry { Key = AppendKey(key), Hash = hash };
            _size++;
            Insert(added);
            _counts.Place(new EntryLinks(_entries), added, weight);
            return;
        }
        // Replace the key that has held the minimum longest: the newcomer may have been among the evicted, so it
        // inherits the minimum as its error.
        var entry = _counts.Evictable;
        Remove(entry);
        ref var replaced = ref _entries[entry];
        if (!_keys.TryOverwrite(ref replaced.Key, key))
        {
            _keys.Release(ref replaced.Key);
            replaced.Key = AppendKey(key);
        }
        replaced.Hash = hash;
        replaced.Error = _counts.MinCount;
        Insert(entry);
        _counts.Raise(new EntryLinks(_entries), entry, weight);
    }

    /// <summary>The tracked entries, largest count first (ties by key, ordinal).</summary>
    public List<SketchEntry> Entries()
    {
        var list = new List<SketchEntry>(_size);
        for (var entry = 0; entry < _size; entry++) list.Add(At(entry));
        list.Sort(SketchEntry.ByCountDescending);
        return list;
    }

    /// <summary>The entry of <paramref name="key"/>, if tracked.</summary>
    public SketchEntry? Find(string key)
    {
        var utf8 = Encoding.UTF8.GetBytes(key);
        return Find(utf8, Hash(utf8)) is var entry and >= 0 ? At(entry) : null;
    }

    /// <summary>The first entry number in stored order (see <see cref="CountBuckets.FirstStored"/>), or -1 when empty; the codec stores that order.</summary>
    internal int FirstStored() => _counts.FirstStored();

    /// <summary>The entry after <paramref name="entry"/> in stored order, or -1 after the last.</summary>
    internal int NextStored(int entry) => _counts.NextStored(new EntryLinks(_entries), entry);

    /// <summary>The entries in stored order (tests).</summary>
    internal IEnumerable<SketchEntry> StoredOrder()
    {
        for (var entry = FirstStored(); entry != None; entry = NextStored(entry)) yield return At(entry);
    }

    /// <summary>The UTF-8 key of entry <paramref name="entry"/>, valid until the next update (the codec writes it as it is).</summary>
    internal ReadOnlySpan<byte> KeyOf(int entry) => _keys.Text(in _entries[entry].Key);

    /// <summary>The count of entry <paramref name="entry"/>.</summary>
    internal long CountOf(int entry) => _counts.CountOf(new EntryLinks(_entries), entry);

    /// <summary>The error of entry <paramref name="entry"/>.</summary>
    internal long ErrorOf(int entry) => _entries[entry].Error;

    /// <summary>Bytes the key arena holds, live or not (tests hold its growth to what is live).</summary>
    internal int KeyBytesReserved => _keys.Reserved;

    /// <summary>UTF-8 bytes the tracked keys hold.</summary>
    internal int KeyBytesLive => _keys.Live;

    private SketchEntry At(int entry) => new(Encoding.UTF8.GetString(KeyOf(entry)), CountOf(entry), ErrorOf(entry));

    /// <summary>
    /// Rebuilds a sketch from its stored entries. Stored in order (counts ascending, as <see cref="SketchCodec"/>
    /// writes), they come back in the same buckets in the same order. Any other order (a heap, as versions before
    /// the buckets stored) is sorted by count, ties kept as stored. Entries beyond the capacity are dropped
    /// smallest first; they are at most the remaining minimum, so the bounds still hold.
    /// </summary>
    internal static SpaceSaving Restore(int capacity, long total, IReadOnlyList<SketchEntry> stored)
    {
        var sketch = new SpaceSaving(capacity) { Total = total };
        IEnumerable<SketchEntry> kept = stored;
        if (stored.Count > capacity)
            kept = stored.OrderByDescending(e => e.Count).ThenBy(e => e.Key, StringComparer.Ordinal).Take(capacity).OrderBy(e => e.Count);
        else if (!IsAscending(stored))
            kept = stored.OrderBy(e => e.Count);
        var room = Math.Min(capacity, stored.Count);
        if (room > sketch._entries.Length) sketch.Grow(room);
        foreach (var e in kept)
        {
            // Stored keys are UTF-8 written from valid text: they come back as they were stored.
            var key = Encoding.UTF8.GetBytes(e.Key);
            var hash = Hash(key);
            if (sketch.Find(key, hash) >= 0) throw new InvalidDataException($"sketch holds key '{e.Key}' twice");
            var added = sketch._size;
            sketch._entries[added] = new Entry { Key = sketch.AppendKey(key), Hash = hash, Error = e.Error };
            sketch._size++;
            sketch.Insert(added);
            sketch._counts.PlaceLast(new EntryLinks(sketch._entries), added, e.Count);
        }
        return sketch;
    }

    private static bool IsAscending(IReadOnlyList<SketchEntry> entries)
    {
        for (var i = 1; i < entries.Count; i++)
            if (entries[i - 1].Count > entries[i].Count) return false;
        return true;
    }

    private void Grow(int room)
    {
        Array.Resize(ref _entries, room);
        _counts.Grow(room);
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

    private readonly struct EntryLinks(Entry[] entries) : ICountLinks
    {
        public ref CountLink Of(int entry) => ref entries[entry].Links;
    }

    // 32 bytes, two to a cache line: the error first, so that no padding falls between it and the ints; the links
    // beside the key and hash, which the lookup before every move has just read.
    private struct Entry
    {
        public long Error;
        public KeyText Key;
        public int Hash;
        public CountLink Links;
    }
}
