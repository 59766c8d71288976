using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Pipeline.Consumers.TopK;

/// <summary>
/// Comparisons and copies of the short pieces the hot path handles per event — keys looked up and written over
/// evicted ones, property names, a template's kept text and masks, an address — most of 4 to 32 bytes: two
/// overlapping reads or moves inline, where the general routines are a call and a dispatch on length (several per
/// event, measured in the top-k benchmark's stages).
/// </summary>
internal static class ShortBytes
{
    /// <summary>Whether the <paramref name="length"/> bytes at <paramref name="a"/> and at <paramref name="b"/> are the same.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Equal(ref byte a, ref byte b, int length)
    {
        var bytes = (nuint)length;
        if (bytes is >= 8 and <= 16)
            return Unsafe.ReadUnaligned<ulong>(ref a) == Unsafe.ReadUnaligned<ulong>(ref b)
                && Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref a, bytes - 8)) == Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, bytes - 8));
        if (bytes is >= 4 and < 8)
            return Unsafe.ReadUnaligned<uint>(ref a) == Unsafe.ReadUnaligned<uint>(ref b)
                && Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref a, bytes - 4)) == Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, bytes - 4));
        if (bytes is > 16 and <= 32)
            return Vector128.LoadUnsafe(ref a) == Vector128.LoadUnsafe(ref b)
                && Vector128.LoadUnsafe(ref a, bytes - 16) == Vector128.LoadUnsafe(ref b, bytes - 16);
        return MemoryMarshal.CreateReadOnlySpan(ref a, length).SequenceEqual(MemoryMarshal.CreateReadOnlySpan(ref b, length));
    }

    /// <summary>Copies <paramref name="source"/> to the start of <paramref name="destination"/>, which must be at least as long.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(ReadOnlySpan<byte> source, Span<byte> destination)
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
