using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// Copies of the short pieces the hot path moves per event — keys written over evicted ones, the kept text and masks
/// of a template, an address — most of 4 to 16 bytes: two overlapping moves inline, where the general copy is a call
/// and a dispatch on length (several per event, measured in the top-k benchmark's stages).
/// </summary>
internal static class ShortCopy
{
    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="destination"/>, which must be at least as long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void To(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.Length > destination.Length) ThrowTooShort();
        ref var from = ref MemoryMarshal.GetReference(source);
        ref var to = ref MemoryMarshal.GetReference(destination);
        var bytes = (nuint)source.Length;
        if (bytes is >= 8 and <= 16)
        {
            var head = Unsafe.ReadUnaligned<ulong>(ref from);
            var tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref from, bytes - 8));
            Unsafe.WriteUnaligned(ref to, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, bytes - 8), tail);
        }
        else if (bytes is >= 4 and < 8)
        {
            var head = Unsafe.ReadUnaligned<uint>(ref from);
            var tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref from, bytes - 4));
            Unsafe.WriteUnaligned(ref to, head);
            Unsafe.WriteUnaligned(ref Unsafe.Add(ref to, bytes - 4), tail);
        }
        else source.CopyTo(destination);
    }

    private static void ThrowTooShort() => throw new ArgumentException("destination is too short");
}
