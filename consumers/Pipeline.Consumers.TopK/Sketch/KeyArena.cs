using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>
/// Where a key's UTF-8 lies in a <see cref="KeyArena"/>: <see cref="Room"/> bytes reserved, <see cref="Length"/> used.
/// Eight bytes, so that a sketch's entry is 32 (two to a cache line): a key is at most <see cref="KeyArena.MaxKeyBytes"/>.
/// </summary>
internal struct KeyText
{
    public int Start;
    private ushort _length;
    private ushort _room;

    public int Length
    {
        readonly get => _length;
        set => _length = checked((ushort)value);
    }

    public int Room
    {
        readonly get => _room;
        set => _room = checked((ushort)value);
    }
}

/// <summary>
/// The UTF-8 of a sketch's keys, in one byte array (the form keys are hashed, compared and stored in): a sketch on a long tail replaces a key on most updates, and a
/// string per newcomer was most of what the hot path allocated (and then collected). A replacement writes over
/// the evicted key's room when it fits (keys of one dimension have similar lengths), else appends; the space
/// left behind is reclaimed by a compaction when the array is full, and the array grows only when what is live
/// fills three quarters of it, so in a steady state nothing is allocated.
/// </summary>
internal sealed class KeyArena
{
    private byte[] _bytes;
    private int _used;
    // Bytes no live key owns (evicted rooms, and the slack of rooms written over by shorter keys).
    private int _garbage;

    /// <summary>The longest key in bytes (keys are cut at <c>TopK:MaxKeyLength</c> chars, at most 4,096: 12,291 bytes).</summary>
    public const int MaxKeyBytes = ushort.MaxValue;

    /// <summary>Refuses a key longer than <see cref="MaxKeyBytes"/>, naming its length.</summary>
    public static void ThrowIfTooLong(int length)
    {
        if (length > MaxKeyBytes) throw new ArgumentException($"a key of {length} bytes is longer than a sketch keeps ({MaxKeyBytes}; keys are cut at TopK:MaxKeyLength chars, at most 4,096)");
    }

    public KeyArena(int initialBytes) => _bytes = new byte[Math.Max(16, initialBytes)];

    public ReadOnlySpan<byte> Text(in KeyText key) => new(_bytes, key.Start, key.Length);

    /// <summary>Whether <paramref name="key"/> is <paramref name="text"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Holds(in KeyText key, ReadOnlySpan<byte> text)
    {
        if (key.Length != text.Length) return false;
        // Every update of every sketch compares one key, mostly of 3 to 16 bytes (names, levels, addresses).
        return ShortBytes.Equal(ref _bytes[key.Start], ref MemoryMarshal.GetReference(text), text.Length);
    }

    /// <summary>Writes <paramref name="text"/> into <paramref name="key"/>'s own room; false when it does not fit.</summary>
    public bool TryOverwrite(ref KeyText key, ReadOnlySpan<byte> text)
    {
        if (text.Length > key.Room) return false;
        _garbage += key.Length - text.Length;
        ShortBytes.Copy(text, _bytes.AsSpan(key.Start));
        key.Length = text.Length;
        return true;
    }

    /// <summary>Gives the room of a key that is going away back (to be reclaimed by the next compaction).</summary>
    public void Release(ref KeyText key)
    {
        _garbage += key.Length;
        key = default;
    }

    /// <summary>True when <paramref name="length"/> more bytes can be appended without a compaction.</summary>
    public bool Fits(int length) => _used + length <= _bytes.Length;

    /// <summary>Appends a new key; the caller made room (<see cref="Fits"/>, <see cref="Compact"/>).</summary>
    public KeyText Append(ReadOnlySpan<byte> text)
    {
        ThrowIfTooLong(text.Length);
        ShortBytes.Copy(text, _bytes.AsSpan(_used));
        var key = new KeyText { Start = _used, Length = text.Length, Room = text.Length };
        _used += text.Length;
        return key;
    }

    /// <summary>
    /// Moves every live key (the <paramref name="count"/> keys of <paramref name="keys"/>) to the front, dropping the
    /// garbage: copied out to a pooled buffer and back, which needs neither a sort by place nor a spare array per
    /// sketch. The array doubles when what is live (and <paramref name="needed"/>) would fill more than three
    /// quarters of it, so at least a quarter of it is appended between two compactions and each costs a small
    /// constant per key appended.
    /// </summary>
    public void Compact<TKeys>(ref TKeys keys, int count, int needed) where TKeys : struct, IKeyTable
    {
        var live = 0;
        for (var i = 0; i < count; i++) live += keys.KeyOf(i).Length;
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, live));
        var at = 0;
        for (var i = 0; i < count; i++)
        {
            ref var key = ref keys.KeyOf(i);
            Array.Copy(_bytes, key.Start, buffer, at, key.Length);
            key.Start = at;
            key.Room = key.Length;
            at += key.Length;
        }
        if (4 * (live + needed) > 3 * _bytes.Length) _bytes = new byte[Math.Max(2 * _bytes.Length, 2 * (live + needed))];
        Array.Copy(buffer, _bytes, live);
        ArrayPool<byte>.Shared.Return(buffer);
        _used = live;
        _garbage = 0;
    }

    /// <summary>Bytes reserved, live or not (for tests of the compaction).</summary>
    public int Reserved => _bytes.Length;

    /// <summary>Bytes live keys use (for tests of the compaction).</summary>
    public int Live => _used - _garbage;
}

/// <summary>Where a <see cref="KeyArena"/> finds the keys it compacts (a struct, so the call is inlined).</summary>
internal interface IKeyTable
{
    ref KeyText KeyOf(int i);
}
