using static Pipeline.Edge.Sources.Syslog.SyslogBytes;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>Date and time fields as a line wrote them, before a year or a time zone is applied.</summary>
internal struct TimestampParts
{
    /// <summary>0 when the line carried no year (RFC 3164).</summary>
    public int Year;
    public int Month;
    public int Day;
    public int Hour;
    public int Minute;
    /// <summary>0–60: a leap second is read as the first instant of the next minute.</summary>
    public int Second;
    /// <summary>100 ns units from the first 7 fraction digits.</summary>
    public int FractionTicks;
    /// <summary>Nanoseconds from the 8th and 9th fraction digits (0–99); digits beyond the 9th are dropped.</summary>
    public int ExtraNanoseconds;
    public bool HasFraction;
    /// <summary>The line gave the offset: in the timestamp, or as a zone label after it (Cisco's <c>CET:</c>).</summary>
    public bool HasOffset;
    public int OffsetMinutes;
}

/// <summary>
/// Timestamp reading without strings or allocations: RFC 3339 (RFC 5424, and the ISO forms BSD-style lines carry),
/// the BSD <c>Mmm dd hh:mm:ss</c> form with the variations devices write, and Cisco NX-OS's <c>yyyy Mmm dd hh:mm:ss</c>.
/// Turning wall-clock fields into an instant is <see cref="LocalTime"/>'s job.
/// </summary>
internal static class SyslogTimestamp
{
    // 7 digits are DateTime's 100 ns ticks; 2 more are kept as nanoseconds; the rest are read and dropped.
    private const int TickDigits = 7;
    private const int NanosecondDigits = 9;

    /// <summary>
    /// Reads <c>YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm|±hhmm]</c> from the start of <paramref name="s"/>. With
    /// <paramref name="lenient"/> (timestamps of BSD-style lines), also what senders write beside the standard:
    /// a space for the <c>T</c> (<c>2024-03-01 10:00:00</c>), an offset of hours alone (<c>-07</c>), and a
    /// redundant zero offset after <c>Z</c> (<c>Z+00:00</c>).
    /// </summary>
    /// <returns>Bytes read, or 0 when <paramref name="s"/> does not start with one.</returns>
    public static int ParseRfc3339(ReadOnlySpan<byte> s, out TimestampParts parts, bool lenient = false)
    {
        parts = default;
        if (s.Length < 19
            || !Digits(s, 0, 4, out parts.Year) || s[4] != '-'
            || !Digits(s, 5, 2, out parts.Month) || s[7] != '-'
            || !Digits(s, 8, 2, out parts.Day) || (s[10] != 'T' && s[10] != 't' && !(lenient && s[10] == ' '))
            || !Digits(s, 11, 2, out parts.Hour) || s[13] != ':'
            || !Digits(s, 14, 2, out parts.Minute) || s[16] != ':'
            || !Digits(s, 17, 2, out parts.Second))
        {
            return 0;
        }

        var i = 19;
        if (i < s.Length && s[i] == '.')
        {
            i = ParseFraction(s, i + 1, ref parts);
            if (i < 0) return 0;
        }

        if (i < s.Length)
        {
            var c = s[i];
            if (c == 'Z' || c == 'z')
            {
                parts.HasOffset = true;
                i++;
                if (lenient && i < s.Length && s[i] is (byte)'+' or (byte)'-' && ReadOffset(s, i, lenient: true, out var redundant, out var after)
                    && redundant == 0)
                {
                    i = after;
                }
            }
            else if (c == '+' || c == '-')
            {
                if (!ReadOffset(s, i, lenient, out parts.OffsetMinutes, out i)) return 0;
                parts.HasOffset = true;
            }
        }

        return parts.Year >= 1 && FieldsInRange(parts) ? i : 0;
    }

    /// <summary>
    /// Reads the BSD form <c>Mmm dd hh:mm:ss</c>: month in any letter case, day space-padded, zero-padded or bare,
    /// optional fraction digits, and a year either before the time (<c>Mar  1 2024 00:12:34</c>, Cisco and ASA) or
    /// after it (<c>Apr 15 21:28:13 2007</c>).
    /// </summary>
    /// <returns>Bytes read, or 0 when <paramref name="s"/> does not start with one.</returns>
    public static int ParseBsd(ReadOnlySpan<byte> s, out TimestampParts parts)
    {
        parts = default;
        if (s.Length < 14 || s[3] != ' ') return 0;
        parts.Month = Month(s[0], s[1], s[2]);
        if (parts.Month == 0) return 0;

        var i = 4;
        if (s[i] == ' ') i++;
        if (!IsDigit(s[i])) return 0;
        parts.Day = s[i++] - '0';
        if (i < s.Length && IsDigit(s[i])) parts.Day = parts.Day * 10 + (s[i++] - '0');
        if (i >= s.Length || s[i] != ' ') return 0;
        i++;

        if (Digits(s, i, 4, out var year) && i + 4 < s.Length && s[i + 4] == ' ')
        {
            if (year == 0) return 0;
            parts.Year = year;
            i += 5;
        }

        i = ParseTime(s, i, ref parts);
        if (i < 0) return 0;
        if (parts.Year == 0 && i + 5 <= s.Length && s[i] == ' ' && Digits(s, i + 1, 4, out year) && year > 0
            && (i + 5 == s.Length || s[i + 5] == ' '))
        {
            parts.Year = year;
            i += 5;
        }

        // A timestamp ends at a token boundary; "Mar  1 00:12:34x" is text, not a time.
        if (i < s.Length && s[i] != ' ' && s[i] != ':') return 0;
        return FieldsInRange(parts) ? i : 0;
    }

    /// <summary>Cisco NX-OS's <c>yyyy Mmm dd hh:mm:ss[.frac]</c> (after its <c>": "</c> prefix).</summary>
    /// <returns>Bytes read, or 0 when <paramref name="s"/> does not start with one.</returns>
    public static int ParseYearFirst(ReadOnlySpan<byte> s, out TimestampParts parts)
    {
        parts = default;
        if (s.Length < 19 || !Digits(s, 0, 4, out var year) || year == 0 || s[4] != ' ') return 0;
        var used = ParseBsd(s[5..], out parts);
        if (used == 0 || parts.Year != 0) return 0;
        parts.Year = year;
        return used + 5;
    }

    /// <summary>True when <paramref name="s"/> starts with a month abbreviation, a space and a day: a BSD timestamp was meant.</summary>
    public static bool LooksLikeBsd(ReadOnlySpan<byte> s) =>
        s.Length >= 5 && s[3] == ' ' && (s[4] == ' ' || IsDigit(s[4])) && Month(s[0], s[1], s[2]) != 0;

    /// <summary>True when <paramref name="s"/> starts with <c>dddd-dd-dd</c> and a time separator and digit: an ISO
    /// timestamp was meant (a bare date followed by words is just text).</summary>
    public static bool LooksLikeIso(ReadOnlySpan<byte> s) =>
        s.Length >= 12 && Digits(s, 0, 4, out _) && s[4] == '-' && Digits(s, 5, 2, out _) && s[7] == '-'
        && Digits(s, 8, 2, out _) && s[10] is (byte)'T' or (byte)'t' or (byte)' ' && IsDigit(s[11]);

    /// <summary>Reads <c>hh:mm:ss[.frac]</c> at <paramref name="i"/>; the index after it, or -1.</summary>
    public static int ParseTime(ReadOnlySpan<byte> s, int i, ref TimestampParts parts)
    {
        if (!Digits(s, i, 2, out parts.Hour) || i + 8 > s.Length || s[i + 2] != ':'
            || !Digits(s, i + 3, 2, out parts.Minute) || s[i + 5] != ':'
            || !Digits(s, i + 6, 2, out parts.Second))
        {
            return -1;
        }

        i += 8;
        if (i + 1 < s.Length && s[i] == '.' && IsDigit(s[i + 1])) i = ParseFraction(s, i + 1, ref parts);
        return i;
    }

    public static bool FieldsInRange(in TimestampParts p) =>
        p.Month is >= 1 and <= 12 && p.Day is >= 1 and <= 31 && p.Hour <= 23 && p.Minute <= 59 && p.Second <= 60;

    /// <summary><c>±hh:mm</c> or <c>±hhmm</c>; with <paramref name="lenient"/> also <c>±hh</c>. At most ±14:00 (DateTimeOffset's range).</summary>
    private static bool ReadOffset(ReadOnlySpan<byte> s, int i, bool lenient, out int minutes, out int next)
    {
        minutes = 0;
        next = i;
        if (!Digits(s, i + 1, 2, out var hours)) return false;
        var j = i + 3;
        var om = 0;
        if (j < s.Length && s[j] == ':') j++;
        if (Digits(s, j, 2, out om))
        {
            j += 2;
        }
        else if (lenient && j == i + 3 && (j == s.Length || s[j] == ' '))
        {
            om = 0;
        }
        else
        {
            return false;
        }

        var total = hours * 60 + om;
        if (om > 59 || total > 14 * 60) return false;
        minutes = s[i] == '-' ? -total : total;
        next = j;
        return true;
    }

    /// <returns>The index after the digits, or -1 when there are none.</returns>
    private static int ParseFraction(ReadOnlySpan<byte> s, int i, ref TimestampParts parts)
    {
        var ticks = 0;
        var nanos = 0;
        var count = 0;
        while (i < s.Length && IsDigit(s[i]))
        {
            // Digits beyond nanoseconds are read and dropped (truncation, never rounding into the next second).
            if (count < TickDigits) ticks = ticks * 10 + (s[i] - '0');
            else if (count < NanosecondDigits) nanos = nanos * 10 + (s[i] - '0');
            count++;
            i++;
        }

        if (count == 0) return -1;
        for (var k = Math.Min(count, TickDigits); k < TickDigits; k++) ticks *= 10;
        if (count > TickDigits && count < NanosecondDigits) nanos *= 10;
        parts.FractionTicks = ticks;
        parts.ExtraNanoseconds = nanos;
        parts.HasFraction = true;
        return i;
    }

    private static bool Digits(ReadOnlySpan<byte> s, int start, int count, out int value)
    {
        value = 0;
        if (start < 0 || start + count > s.Length) return false;
        for (var i = start; i < start + count; i++)
        {
            var d = s[i] - '0';
            if ((uint)d > 9) return false;
            value = value * 10 + d;
        }

        return true;
    }

    /// <returns>1–12, or 0 when the three bytes are no English month abbreviation (any letter case).</returns>
    private static int Month(byte a, byte b, byte c)
    {
        var key = ((a | 0x20) << 16) | ((b | 0x20) << 8) | (c | 0x20);
        return key switch
        {
            ('j' << 16) | ('a' << 8) | 'n' => 1,
            ('f' << 16) | ('e' << 8) | 'b' => 2,
            ('m' << 16) | ('a' << 8) | 'r' => 3,
            ('a' << 16) | ('p' << 8) | 'r' => 4,
            ('m' << 16) | ('a' << 8) | 'y' => 5,
            ('j' << 16) | ('u' << 8) | 'n' => 6,
            ('j' << 16) | ('u' << 8) | 'l' => 7,
            ('a' << 16) | ('u' << 8) | 'g' => 8,
            ('s' << 16) | ('e' << 8) | 'p' => 9,
            ('o' << 16) | ('c' << 8) | 't' => 10,
            ('n' << 16) | ('o' << 8) | 'v' => 11,
            ('d' << 16) | ('e' << 8) | 'c' => 12,
            _ => 0,
        };
    }
}
