using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>
/// Reads <c>received_at</c> in the one form the edge writes it (a <see cref="DateTimeOffset"/> as
/// <c>System.Text.Json</c> writes one): <c>yyyy-MM-ddTHH:mm:ss</c>, an optional fraction of 1 to 7 digits,
/// then <c>Z</c> or <c>±HH:mm</c>. Anything else (other ISO 8601 forms, leap seconds, a missing offset) is
/// not read here: the caller leaves it to <c>Utf8JsonReader.TryGetDateTimeOffset</c>, whose answer this one
/// matches wherever it gives one (a unit test compares them).
/// </summary>
internal static class Rfc3339
{
    private static readonly long MaxOffsetTicks = TimeSpan.FromHours(14).Ticks;

    /// <summary>
    /// The last minute read (<c>yyyy-MM-ddTHH:mm</c>, its 16 bytes as two words) and its ticks. Consecutive events
    /// nearly always share their minute, so its checks and the calendar arithmetic are done about once a minute of
    /// events instead of once an event. One per scanner (per thread).
    /// </summary>
    public sealed class MinuteCache
    {
        internal ulong Head;
        internal ulong Tail;
        internal long Ticks = -1;
    }

    public static bool TryParse(ReadOnlySpan<byte> s, out DateTimeOffset value) => TryParse(s, null, out value);

    /// <summary>As <see cref="TryParse(ReadOnlySpan{byte}, out DateTimeOffset)"/>, reusing the minute of the previous call when it is the same.</summary>
    public static bool TryParse(ReadOnlySpan<byte> s, MinuteCache? cache, out DateTimeOffset value)
    {
        value = default;
        if (s.Length < 20 || s[16] != ':' || !Digits(s, 17, 2, out var second) || second > 59) return false;
        long minute;
        ref var first = ref MemoryMarshal.GetReference(s);
        var head = Unsafe.ReadUnaligned<ulong>(ref first);
        var tail = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref first, 8));
        if (cache is not null && cache.Ticks >= 0 && cache.Head == head && cache.Tail == tail) minute = cache.Ticks;
        else
        {
            if (!Minute(s, out minute)) return false;
            if (cache is not null)
            {
                cache.Head = head;
                cache.Tail = tail;
                cache.Ticks = minute;
            }
        }
        var at = 19;
        var fraction = 0L;
        if (s[at] == '.')
        {
            var digits = 0;
            for (at++; at < s.Length && char.IsAsciiDigit((char)s[at]); at++, digits++)
            {
                if (digits == 7) return false;
                fraction = fraction * 10 + (s[at] - '0');
            }
            if (digits == 0) return false;
            for (; digits < 7; digits++) fraction *= 10;
        }
        if (at >= s.Length) return false;
        long offset;
        if (s[at] == 'Z' && at + 1 == s.Length) offset = 0;
        else
        {
            if (s[at] is not ((byte)'+' or (byte)'-') || at + 6 != s.Length || s[at + 3] != ':'
                || !Digits(s, at + 1, 2, out var offsetHours) || !Digits(s, at + 4, 2, out var offsetMinutes) || offsetMinutes > 59) return false;
            offset = (offsetHours * 60L + offsetMinutes) * TimeSpan.TicksPerMinute * (s[at] == '-' ? -1 : 1);
            if (Math.Abs(offset) > MaxOffsetTicks) return false;
        }
        var local = minute + second * TimeSpan.TicksPerSecond + fraction;
        // The instant must exist in UTC as well (year 1 with a positive offset does not).
        if (local - offset < DateTime.MinValue.Ticks || local - offset > DateTime.MaxValue.Ticks) return false;
        value = new DateTimeOffset(local, new TimeSpan(offset));
        return true;
    }

    /// <summary>The ticks of <c>yyyy-MM-ddTHH:mm</c> at the start of <paramref name="s"/> (at least 16 bytes), checked.</summary>
    private static bool Minute(ReadOnlySpan<byte> s, out long ticks)
    {
        ticks = 0;
        if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':') return false;
        if (!Digits(s, 0, 4, out var year) || !Digits(s, 5, 2, out var month) || !Digits(s, 8, 2, out var day)
            || !Digits(s, 11, 2, out var hour) || !Digits(s, 14, 2, out var minute)) return false;
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59) return false;
        ticks = new DateTime(year, month, day, hour, minute, 0).Ticks;
        return true;
    }

    private static bool Digits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        for (var i = start; i < start + count; i++)
        {
            var d = s[i] - '0';
            if ((uint)d > 9) return false;
            value = value * 10 + d;
        }
        return true;
    }
}
