namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>
/// The order of a <see cref="SpaceSaving"/> sketch's entries by count — the paper's "stream summary": one bucket per
/// distinct count, in a list from the smallest count up, each bucket holding its entries in the order they reached
/// that count. Raising an entry moves it to the bucket of its new count, or renames its bucket when it is alone
/// there (a heavy key's usual update): a few links, where a heap sifted an evicting newcomer down past every key
/// tied at the minimum. The head of the first bucket is the entry to evict: the one that has held the minimum longest.
/// <para>
/// Entries are numbered by the sketch (0 to its size - 1) and carry their <see cref="CountLink"/> in the sketch's own
/// entry array (<see cref="ICountLinks"/>): an update has the entry's cache line from its lookup already. Buckets are
/// an array of structs linked by number, so an update allocates nothing. Not thread-safe, like the sketch.
/// </para>
/// </summary>
internal sealed class CountBuckets
{
    public const int None = -1;

    // Free buckets are chained through Next from _free. There are never more than entries + 1 in use (one per
    // distinct count, and one made for a move before the emptied one is freed).
    private Bucket[] _buckets;
    private int _made;
    private int _free = None;
    // The first and the last bucket (smallest and largest count), None while there is no entry.
    private int _min = None;
    private int _max = None;

    public CountBuckets(int room) => _buckets = new Bucket[room + 1];

    /// <summary>The smallest count held (0 when none).</summary>
    public long MinCount => _min == None ? 0 : _buckets[_min].Count;

    /// <summary>The entry to evict: the one that has held the smallest count longest, or <see cref="None"/>.</summary>
    public int Evictable => _min == None ? None : _buckets[_min].Head;

    /// <summary>Room for entries numbered below <paramref name="room"/>.</summary>
    public void Grow(int room) => Array.Resize(ref _buckets, room + 1);

    /// <summary>The count of a placed entry.</summary>
    public long CountOf<T>(T links, int entry) where T : struct, ICountLinks => _buckets[links.Of(entry).Bucket].Count;

    /// <summary>Places a new entry at <paramref name="count"/>, last among the entries at that count.</summary>
    public void Place<T>(T links, int entry, long count) where T : struct, ICountLinks => Append(links, entry, BucketFor(count, after: None, from: _min));

    /// <summary>
    /// Places a new entry at <paramref name="count"/>, which is at least every count placed so far (a restore, in
    /// stored order): it goes into the last bucket or a new one after it.
    /// </summary>
    public void PlaceLast<T>(T links, int entry, long count) where T : struct, ICountLinks =>
        Append(links, entry, _max != None && _buckets[_max].Count == count ? _max : BucketFor(count, after: _max, from: None));

    /// <summary>Moves <paramref name="entry"/> up by <paramref name="weight"/>: to the bucket of its new count, made if there is none.</summary>
    public void Raise<T>(T links, int entry, long weight) where T : struct, ICountLinks
    {
        var from = links.Of(entry).Bucket;
        ref var bucket = ref _buckets[from];
        var count = bucket.Count + weight;
        var next = bucket.Next;
        // Alone in its bucket with no bucket of the new count: the bucket takes the new count.
        if (bucket.Head == bucket.Tail && (next == None || _buckets[next].Count > count))
        {
            bucket.Count = count;
            return;
        }
        var to = BucketFor(count, after: from, from: next);
        Unlink(links, entry, from);
        Append(links, entry, to);
    }

    /// <summary>
    /// The first entry in stored order — counts ascending, ties in the order they reached the count, the next to be
    /// evicted first — or <see cref="None"/>. <see cref="NextStored"/> walks on.
    /// </summary>
    public int FirstStored() => Evictable;

    /// <summary>The entry after <paramref name="entry"/> in stored order, or <see cref="None"/> after the last.</summary>
    public int NextStored<T>(T links, int entry) where T : struct, ICountLinks
    {
        ref var link = ref links.Of(entry);
        if (link.Next != None) return link.Next;
        var bucket = _buckets[link.Bucket].Next;
        return bucket == None ? None : _buckets[bucket].Head;
    }

    /// <summary>
    /// The bucket of <paramref name="count"/>, looked for from bucket <paramref name="from"/> (whose predecessor is
    /// <paramref name="after"/>) up; made in its place in the list if there is none. A weight of 1 finds it at once;
    /// a larger one walks past the counts it jumps over, unless it goes past them all (a sample rate far above every
    /// count): then it is put at the end at once, so no weight makes an update walk the whole list.
    /// </summary>
    private int BucketFor(long count, int after, int from)
    {
        var at = from;
        if (_max != None && count > _buckets[_max].Count)
        {
            after = _max;
            at = None;
        }
        while (at != None && _buckets[at].Count < count)
        {
            after = at;
            at = _buckets[at].Next;
        }
        if (at != None && _buckets[at].Count == count) return at;
        var made = _free;
        if (made != None) _free = _buckets[made].Next;
        else made = _made++;
        _buckets[made] = new Bucket { Count = count, Head = None, Tail = None, Previous = after, Next = at };
        if (after == None) _min = made;
        else _buckets[after].Next = made;
        if (at == None) _max = made;
        else _buckets[at].Previous = made;
        return made;
    }

    private void Append<T>(T links, int entry, int bucket) where T : struct, ICountLinks
    {
        ref var b = ref _buckets[bucket];
        ref var link = ref links.Of(entry);
        link.Bucket = bucket;
        link.Previous = b.Tail;
        link.Next = None;
        if (b.Tail == None) b.Head = entry;
        else links.Of(b.Tail).Next = entry;
        b.Tail = entry;
    }

    /// <summary>Takes <paramref name="entry"/> out of <paramref name="bucket"/>, freeing the bucket if that empties it.</summary>
    private void Unlink<T>(T links, int entry, int bucket) where T : struct, ICountLinks
    {
        ref var link = ref links.Of(entry);
        ref var b = ref _buckets[bucket];
        if (link.Previous == None) b.Head = link.Next;
        else links.Of(link.Previous).Next = link.Next;
        if (link.Next == None) b.Tail = link.Previous;
        else links.Of(link.Next).Previous = link.Previous;
        if (b.Head != None) return;
        if (b.Previous == None) _min = b.Next;
        else _buckets[b.Previous].Next = b.Next;
        if (b.Next == None) _max = b.Previous;
        else _buckets[b.Next].Previous = b.Previous;
        b.Next = _free;
        _free = bucket;
    }

    // The entries at one count, in the order they reached it.
    private struct Bucket
    {
        public long Count;
        public int Head;
        public int Tail;
        public int Previous;
        public int Next;
    }
}

/// <summary>Where an entry is in its <see cref="CountBuckets"/>: its bucket and its neighbours there.</summary>
internal struct CountLink
{
    public int Bucket;
    public int Previous;
    public int Next;
}

/// <summary>The entries' <see cref="CountLink"/>s, wherever the sketch keeps them (a struct, so calls through it inline).</summary>
internal interface ICountLinks
{
    ref CountLink Of(int entry);
}
