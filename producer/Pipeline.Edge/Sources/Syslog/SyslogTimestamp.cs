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
    /// <summary>100 ns units from at most 6 fraction digits (microseconds, the RFC 5424 resolution).</summary>
    public int FractionTicks;
    public bool HasFraction;
    public bool HasOffset;
    public int OffsetMinutes;
    /// <summary>A trailing zone label (Cisco's <c>UTC:</c>) said UTC.</summary>
    public bool LabelledUtc;
}

/// <summary>
/// Timestamp reading without strings or allocations: RFC 3339 (RFC 5424 and rsyslog's ISO form in BSD lines) and
/// the BSD <c>Mmm dd hh:mm:ss</c> form, plus turning local wall-clock times into instants.
/// </summary>
internal static class SyslogTimestamp
{
    private const int MaxFractionDigits = 6;
    private static readonly long MaxTicks = DateTime.MaxValue.Ticks;
    private static readonly long ThreeHours = TimeSpan.TicksPerHour * 3;

    /// <summary>
    /// Reads <c>YYYY-MM-DDThh:mm:ss[.frac][Z|±hh:mm|±hhmm]</c> from the start of <paramref name="s"/>; with
    /// <paramref name="allowSpace"/>, also the <c>YYYY-MM-DD hh:mm:ss</c> many application loggers write.
    /// </summary>
    /// <returns>Bytes read, or 0 when <paramref name="s"/> does not start with one.</returns>
    public static int ParseRfc3339(ReadOnlySpan<byte> s, out TimestampParts parts, bool allowSpace = false)
    {
        parts = default;
        if (s.Length < 19
            || !Digits(s, 0, 4, out parts.Year) || s[4] != '-'
            || !Digits(s, 5, 2, out parts.Month) || s[7] != '-'
            || !Digits(s, 8, 2, out parts.Day) || (s[10] != 'T' && s[10] != 't' && !(allowSpace && s[10] == ' '))
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
            }
            else if (c == '+' || c == '-')
            {
                if (!Digits(s, i + 1, 2, out var oh)) return 0;
                var j = i + 3;
                if (j < s.Length && s[j] == ':') j++;
                if (!Digits(s, j, 2, out var om) || om > 59) return 0;
                var total = oh * 60 + om;
                // DateTimeOffset accepts at most ±14:00.
                if (total > 14 * 60) return 0;
                parts.HasOffset = true;
                parts.OffsetMinutes = c == '-' ? -total : total;
                i = j + 2;
            }
        }

        return parts.Year >= 1 && FieldsInRange(parts) ? i : 0;
    }

    /// <summary>
    /// Reads the BSD form <c>Mmm dd hh:mm:ss</c> (day space-padded, zero-padded or bare), with an optional year
    /// before the time (<c>Mmm dd yyyy hh:mm:ss</c>, as Cisco and ASA write it) and optional fraction digits.
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

        if (!Digits(s, i, 2, out parts.Hour) || i + 8 > s.Length || s[i + 2] != ':'
            || !Digits(s, i + 3, 2, out parts.Minute) || s[i + 5] != ':'
            || !Digits(s, i + 6, 2, out parts.Second))
        {
            return 0;
        }

        i += 8;
        if (i + 1 < s.Length && s[i] == '.' && IsDigit(s[i + 1]))
        {
            i = ParseFraction(s, i + 1, ref parts);
            if (i < 0) return 0;
        }

        // A timestamp ends at a token boundary; "Mar  1 00:12:34x" is text, not a time.
        if (i < s.Length && s[i] != ' ' && s[i] != ':') return 0;
        return FieldsInRange(parts) ? i : 0;
    }

    /// <summary>True when <paramref name="s"/> starts with a month abbreviation, a space and a day: a BSD timestamp was meant.</summary>
    public static bool LooksLikeBsd(ReadOnlySpan<byte> s) =>
        s.Length >= 5 && s[3] == ' ' && (s[4] == ' ' || IsDigit(s[4])) && Month(s[0], s[1], s[2]) != 0;

    /// <summary>True when <paramref name="s"/> starts with <c>dddd-dd-dd</c> and a time separator and digit: an ISO
    /// timestamp was meant (a bare date followed by words is just text).</summary>
    public static bool LooksLikeIso(ReadOnlySpan<byte> s) =>
        s.Length >= 12 && Digits(s, 0, 4, out _) && s[4] == '-' && Digits(s, 5, 2, out _) && s[7] == '-'
        && Digits(s, 8, 2, out _) && s[10] is (byte)'T' or (byte)'t' or (byte)' ' && IsDigit(s[11]);

    /// <summary>An instant from fields that carry their own offset.</summary>
    public static bool TryCreate(in TimestampParts p, out DateTimeOffset value) =>
        TryCreate(p, p.Year, TimeSpan.FromMinutes(p.OffsetMinutes), out value);

    /// <summary>
    /// An instant from wall-clock fields read in <paramref name="zone"/>. A missing year is the one that puts the
    /// time nearest to <paramref name="receivedAt"/> (so a Dec 31 line received on Jan 1 is last year's, and a
    /// Jan 1 line received on Dec 31 is next year's). A time in a DST gap uses the offset in force before the gap
    /// (02:30 on a spring-forward night reads as 03:30 summer time, the way java.time and most tools resolve it);
    /// a time that occurs twice takes the offset that puts it nearest to <paramref name="receivedAt"/>.
    /// </summary>
    public static bool TryResolveLocal(in TimestampParts p, TimeZoneInfo zone, DateTimeOffset receivedAt, out DateTimeOffset value)
    {
        value = default;
        var year = p.Year;
        if (year == 0)
        {
            year = NearestYear(p, zone, receivedAt);
            if (year == 0) return false;
        }

        if (!TryLocalTicks(p, year, out var ticks)) return false;
        var offset = OffsetOf(new DateTime(ticks, DateTimeKind.Unspecified), zone, receivedAt);
        return TryCreate(ticks, offset, out value);
    }

    private static int NearestYear(in TimestampParts p, TimeZoneInfo zone, DateTimeOffset receivedAt)
    {
        var receivedLocal = ReferenceEquals(zone, TimeZoneInfo.Utc)
            ? receivedAt.UtcTicks
            : TimeZoneInfo.ConvertTime(receivedAt, zone).Ticks;
        var receivedYear = new DateTime(receivedLocal).Year;
        var best = 0;
        var bestDistance = long.MaxValue;
        for (var year = receivedYear - 1; year <= receivedYear + 1; year++)
        {
            if (!TryLocalTicks(p, year, out var ticks)) continue;
            var distance = Math.Abs(ticks - receivedLocal);
            if (distance < bestDistance)
            {
                best = year;
                bestDistance = distance;
            }
        }

        return best;
    }

    private static TimeSpan OffsetOf(DateTime local, TimeZoneInfo zone, DateTimeOffset receivedAt)
    {
        if (ReferenceEquals(zone, TimeZoneInfo.Utc)) return TimeSpan.Zero;
        if (local.Ticks > ThreeHours && local.Ticks < MaxTicks - ThreeHours)
        {
            // No real transition is closer than three hours to another, so the offsets three hours either side are
            // the ones before and after the transition this time falls into.
            if (zone.IsInvalidTime(local)) return WholeMinutes(zone.GetUtcOffset(local.AddTicks(-ThreeHours)));
            if (zone.IsAmbiguousTime(local))
            {
                var before = WholeMinutes(zone.GetUtcOffset(local.AddTicks(-ThreeHours)));
                var after = WholeMinutes(zone.GetUtcOffset(local.AddTicks(ThreeHours)));
                var received = receivedAt.UtcTicks;
                var dBefore = Math.Abs(local.Ticks - before.Ticks - received);
                var dAfter = Math.Abs(local.Ticks - after.Ticks - received);
                return dAfter < dBefore ? after : before;
            }
        }

        return WholeMinutes(zone.GetUtcOffset(local));
    }

    // Historic zone offsets (local mean time) have seconds, which DateTimeOffset refuses.
    private static TimeSpan WholeMinutes(TimeSpan offset) =>
        offset.Ticks % TimeSpan.TicksPerMinute == 0 ? offset : new TimeSpan(offset.Ticks / TimeSpan.TicksPerMinute * TimeSpan.TicksPerMinute);

    private static bool TryCreate(in TimestampParts p, int year, TimeSpan offset, out DateTimeOffset value)
    {
        value = default;
        return TryLocalTicks(p, year, out var ticks) && TryCreate(ticks, offset, out value);
    }

    private static bool TryCreate(long localTicks, TimeSpan offset, out DateTimeOffset value)
    {
        var utc = localTicks - offset.Ticks;
        if (utc < 0 || utc > MaxTicks)
        {
            value = default;
            return false;
        }

        value = new DateTimeOffset(localTicks, offset);
        return true;
    }

    private static bool TryLocalTicks(in TimestampParts p, int year, out long ticks)
    {
        ticks = 0;
        if (year < 1 || year > 9999 || p.Day > DateTime.DaysInMonth(year, p.Month)) return false;
        var leap = p.Second == 60;
        ticks = new DateTime(year, p.Month, p.Day, p.Hour, p.Minute, leap ? 59 : p.Second).Ticks + p.FractionTicks
            + (leap ? TimeSpan.TicksPerSecond : 0);
        return ticks <= MaxTicks;
    }

    private static bool FieldsInRange(in TimestampParts p) =>
        p.Month is >= 1 and <= 12 && p.Day is >= 1 and <= 31 && p.Hour <= 23 && p.Minute <= 59 && p.Second <= 60;

    /// <returns>The index after the digits, or -1 when there are none.</returns>
    private static int ParseFraction(ReadOnlySpan<byte> s, int i, ref TimestampParts parts)
    {
        var value = 0;
        var count = 0;
        while (i < s.Length && IsDigit(s[i]))
        {
            // Digits beyond microseconds are read and dropped (truncation, never rounding into the next second).
            if (count < MaxFractionDigits) value = value * 10 + (s[i] - '0');
            count++;
            i++;
        }

        if (count == 0) return -1;
        for (var k = Math.Min(count, MaxFractionDigits); k < 7; k++) value *= 10;
        parts.FractionTicks = value;
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

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

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
