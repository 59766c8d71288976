using System.Buffers;

namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>Where a key's text lies in a <see cref="KeyArena"/>: <see cref="Room"/> chars reserved, <see cref="Length"/> used.</summary>
internal struct KeyText
{
    public int Start;
    public int Length;
    public int Room;
}

/// <summary>
/// The text of a sketch's keys, in one char array: a sketch on a long tail replaces a key on most updates, and a
/// string per newcomer was most of what the hot path allocated (and then collected). A replacement writes over
/// the evicted key's room when it fits (keys of one dimension have similar lengths), else appends; the space
/// left behind is compacted in place when the array is full, and the array grows only when what is live fills
/// most of it, so in a steady state nothing is allocated.
/// </summary>
internal sealed class KeyArena
{
    private char[] _chars;
    private int _used;
    // Chars no live key owns (evicted rooms, and the slack of rooms written over by shorter keys).
    private int _garbage;

    public KeyArena(int initialChars) => _chars = new char[Math.Max(16, initialChars)];

    public ReadOnlySpan<char> Text(in KeyText key) => new(_chars, key.Start, key.Length);

    public bool Holds(in KeyText key, ReadOnlySpan<char> text) => text.SequenceEqual(new ReadOnlySpan<char>(_chars, key.Start, key.Length));

    /// <summary>Writes <paramref name="text"/> into <paramref name="key"/>'s own room; false when it does not fit.</summary>
    public bool TryOverwrite(ref KeyText key, ReadOnlySpan<char> text)
    {
        if (text.Length > key.Room) return false;
        _garbage += key.Length - text.Length;
        text.CopyTo(_chars.AsSpan(key.Start));
        key.Length = text.Length;
        return true;
    }

    /// <summary>Gives the room of a key that is going away back (to be reclaimed by the next compaction).</summary>
    public void Release(ref KeyText key)
    {
        _garbage += key.Length;
        key = default;
    }

    /// <summary>True when <paramref name="length"/> more chars can be appended without a compaction.</summary>
    public bool Fits(int length) => _used + length <= _chars.Length;

    /// <summary>Appends a new key; the caller made room (<see cref="Fits"/>, <see cref="Compact"/>).</summary>
    public KeyText Append(ReadOnlySpan<char> text)
    {
        text.CopyTo(_chars.AsSpan(_used));
        var key = new KeyText { Start = _used, Length = text.Length, Room = text.Length };
        _used += text.Length;
        return key;
    }

    /// <summary>
    /// Moves every live key (the <paramref name="count"/> keys of <paramref name="keys"/>) to the front, in place
    /// and in order, dropping the garbage between them, then grows the array if fewer than <paramref name="needed"/>
    /// chars (or a quarter of it) would be free: compactions then come at most once per quarter of the array
    /// appended, so their cost stays a small constant per new key.
    /// </summary>
    public void Compact<TKeys>(ref TKeys keys, int count, int needed) where TKeys : struct, IKeyTable
    {
        var order = ArrayPool<int>.Shared.Rent(count);
        var starts = ArrayPool<int>.Shared.Rent(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                order[i] = i;
                starts[i] = keys.KeyOf(i).Start;
            }
            starts.AsSpan(0, count).Sort(order.AsSpan(0, count));
            var at = 0;
            for (var i = 0; i < count; i++)
            {
                ref var key = ref keys.KeyOf(order[i]);
                // Moving to a lower start never overwrites a key not yet moved (they are taken in start order).
                Array.Copy(_chars, key.Start, _chars, at, key.Length);
                key.Start = at;
                key.Room = key.Length;
                at += key.Length;
            }
            _used = at;
            _garbage = 0;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<int>.Shared.Return(starts);
        }
        var free = _chars.Length - _used;
        if (free < needed || free < _chars.Length / 4) Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _used + 2 * needed));
    }

    /// <summary>Chars reserved, live or not (for tests of the compaction).</summary>
    public int Reserved => _chars.Length;

    /// <summary>Chars no live key uses (for tests of the compaction).</summary>
    public int Garbage => _garbage;
}

/// <summary>Where a <see cref="KeyArena"/> finds the keys it compacts (a struct, so the call is inlined).</summary>
internal interface IKeyTable
{
    ref KeyText KeyOf(int i);
}
