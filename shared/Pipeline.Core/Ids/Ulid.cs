using System.Buffers.Binary;
using System.Security.Cryptography;

#if PIPELINE_CLIENT
namespace Pipeline.Client.Ids;
#else
namespace Pipeline.Core.Ids;
#endif

/// <summary>
/// ULIDs (48-bit millisecond time + 80 random bits, Crockford base32, 26 characters): unique, and sortable by
/// creation time, so event ids double as a rough clock and index well.
/// Each thread keeps its own state: ids minted on one thread in the same millisecond increase, and ids from
/// different threads are kept apart by 80 random bits. An id always carries the time it was minted for, even
/// when that is earlier than the thread's last (a clock stepped back): the pipeline reads receive times back from
/// ids, so a time is never carried forward from another id.
/// </summary>
/// <remarks>Also compiled into <c>Pipeline.Client</c> (which depends on nothing of the pipeline's), internal and in its own namespace.</remarks>
#if PIPELINE_CLIENT
internal static class Ulid
#else
public static class Ulid
#endif
{
    /// <summary>Length of an encoded ULID.</summary>
    public const int Length = 26;

    private static ReadOnlySpan<byte> Alphabet => "0123456789ABCDEFGHJKMNPQRSTVWXYZ"u8;

    [ThreadStatic] private static State? t_state;

    /// <summary>Writes a new ULID for <paramref name="timestamp"/> as 26 ASCII bytes.</summary>
    public static void Write(DateTimeOffset timestamp, Span<byte> destination)
    {
        var state = t_state ??= new State();
        var ms = (ulong)timestamp.ToUnixTimeMilliseconds();
        if (ms != state.LastMs)
        {
            state.LastMs = ms;
            RandomNumberGenerator.Fill(state.Random);
        }
        else
        {
            Increment(state.Random);
        }
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, state.LastMs << 16);
        state.Random.CopyTo(bytes[6..]);
        Encode(bytes, destination);
    }

    /// <summary>A new ULID for <paramref name="timestamp"/> as a string.</summary>
    public static string NewString(DateTimeOffset timestamp)
    {
        Span<byte> ascii = stackalloc byte[Length];
        Write(timestamp, ascii);
        return string.Create(Length, ascii.ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < chars.Length; i++) chars[i] = (char)bytes[i];
        });
    }

    /// <summary>
    /// Copies <paramref name="candidate"/> into <paramref name="destination"/> (26 bytes) upper-cased when it is a ULID:
    /// 26 Crockford base32 digits in either case, the first at most 7 (a larger one would not fit in 128 bits).
    /// Ids minted by a sender (e.g. <c>Pipeline.Client</c>) are kept only when this holds.
    /// </summary>
    public static bool TryNormalize(ReadOnlySpan<byte> candidate, Span<byte> destination)
    {
        if (candidate.Length != Length || candidate[0] is < (byte)'0' or > (byte)'7') return false;
        for (var i = 0; i < Length; i++)
        {
            var c = candidate[i];
            if (c is >= (byte)'a' and <= (byte)'z') c -= 'a' - 'A';
            if (Alphabet.IndexOf(c) < 0) return false;
            destination[i] = c;
        }
        return true;
    }

    /// <summary>The millisecond timestamp encoded in a ULID string.</summary>
    public static DateTimeOffset TimestampOf(ReadOnlySpan<char> ulid)
    {
        if (ulid.Length != Length) throw new FormatException("a ULID has 26 characters");
        ulong ms = 0;
        for (var i = 0; i < 10; i++)
        {
            var v = Alphabet.IndexOf((byte)char.ToUpperInvariant(ulid[i]));
            if (v < 0) throw new FormatException($"'{ulid[i]}' is not a Crockford base32 digit");
            ms = (ms << 5) | (uint)v;
        }
        return DateTimeOffset.FromUnixTimeMilliseconds((long)ms);
    }

    /// <summary>
    /// The millisecond timestamp of a ULID given as ASCII bytes (its first 10 characters); false when they are
    /// not Crockford base32. Allocation-free, for hot paths that read the time back from an id.
    /// </summary>
    public static bool TryReadMilliseconds(ReadOnlySpan<byte> ascii, out long milliseconds)
    {
        milliseconds = 0;
        if (ascii.Length < 10) return false;
        ulong ms = 0;
        for (var i = 0; i < 10; i++)
        {
            var c = ascii[i];
            var v = c < Decode.Length ? Decode[c] : (byte)0xFF;
            if (v == 0xFF) return false;
            ms = (ms << 5) | v;
        }
        milliseconds = (long)ms;
        return true;
    }

    // Crockford base32 digit values by ASCII code (upper and lower case); 0xFF for anything else.
    private static ReadOnlySpan<byte> Decode =>
    [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 10, 11, 12, 13, 14, 15, 16, 17, 0xFF, 18, 19, 0xFF, 20, 21, 0xFF,
        22, 23, 24, 25, 26, 0xFF, 27, 28, 29, 30, 31, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFF, 10, 11, 12, 13, 14, 15, 16, 17, 0xFF, 18, 19, 0xFF, 20, 21, 0xFF,
        22, 23, 24, 25, 26, 0xFF, 27, 28, 29, 30, 31, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
    ];

    private static void Increment(byte[] random)
    {
        for (var i = random.Length - 1; i >= 0; i--)
            if (++random[i] != 0) return;
    }

    // 128 bits → 26 base32 digits; the first digit carries only the top 3 bits.
    private static void Encode(ReadOnlySpan<byte> b, Span<byte> d)
    {
        var hi = BinaryPrimitives.ReadUInt64BigEndian(b);
        var lo = BinaryPrimitives.ReadUInt64BigEndian(b[8..]);
        for (var i = Length - 1; i >= 0; i--)
        {
            d[i] = Alphabet[(int)(lo & 31)];
            lo = (lo >> 5) | (hi << 59);
            hi >>= 5;
        }
    }

    private sealed class State
    {
        public ulong LastMs;
        public readonly byte[] Random = new byte[10];
    }
}
