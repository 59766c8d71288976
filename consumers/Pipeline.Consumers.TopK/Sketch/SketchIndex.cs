using System.Numerics;
using System.Runtime.CompilerServices;

namespace Pipeline.Consumers.TopK.Sketch;

/// <summary>
/// A sketch's index from key hash to entry number: open addressing, linear probing, removal by backward shift
/// (no tombstones, so lookups never slow down under churn). Each slot holds the hash beside the entry number:
/// a probe past another key, a lookup of an untracked key (most updates of a long-tail dimension) and the
/// shifting of a removal read only the index, never the entries. Two slots per entry at least keep runs short
/// (eight slots share a cache line, so the extra probes of a miss cost little).
/// A mutable struct, held in a field of its sketch (never copied).
/// </summary>
internal struct SketchIndex
{
    private Slot[] _slots;
    private int _mask;

    public SketchIndex(int entries)
    {
        _slots = new Slot[Length(entries)];
        _mask = _slots.Length - 1;
    }

    /// <summary>
    /// The first entry filed under <paramref name="hash"/> from where the lookup starts, or -1; <paramref name="at"/>
    /// is where it was found, to go on with <see cref="Next"/> when its key turns out to differ.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly int First(int hash, out int at)
    {
        at = hash & _mask;
        return Scan(hash, ref at);
    }

    /// <summary>The next entry filed under <paramref name="hash"/> after <paramref name="at"/>, or -1.</summary>
    public readonly int Next(int hash, ref int at)
    {
        at = (at + 1) & _mask;
        return Scan(hash, ref at);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly int Scan(int hash, ref int at)
    {
        var slots = _slots;
        while (true)
        {
            ref var slot = ref slots[at];
            if (slot.EntryPlusOne == 0) return -1;
            if (slot.Hash == hash) return slot.EntryPlusOne - 1;
            at = (at + 1) & _mask;
        }
    }

    public readonly void Insert(int hash, int entry)
    {
        var slots = _slots;
        var i = hash & _mask;
        while (slots[i].EntryPlusOne != 0) i = (i + 1) & _mask;
        slots[i] = new Slot { Hash = hash, EntryPlusOne = entry + 1 };
    }

    /// <summary>Takes <paramref name="entry"/> (filed under <paramref name="hash"/>) out, moving back later slots of its run so that no lookup stops short.</summary>
    public readonly void Remove(int hash, int entry)
    {
        var slots = _slots;
        var mask = _mask;
        var hole = hash & mask;
        while (slots[hole].EntryPlusOne != entry + 1) hole = (hole + 1) & mask;
        for (var i = (hole + 1) & mask; slots[i].EntryPlusOne != 0; i = (i + 1) & mask)
        {
            var home = slots[i].Hash & mask;
            // A slot may fill the hole when the hole lies on its probe path (from its home to where it is).
            if (((i - home) & mask) < ((i - hole) & mask)) continue;
            slots[hole] = slots[i];
            hole = i;
        }
        slots[hole] = default;
    }

    /// <summary>Makes room for <paramref name="entries"/> entries, empty: the caller files them again.</summary>
    public void Resize(int entries)
    {
        _slots = new Slot[Length(entries)];
        _mask = _slots.Length - 1;
    }

    private static int Length(int entries) => (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(8, entries * 2));

    private struct Slot
    {
        public int Hash;
        public int EntryPlusOne;
    }
}
