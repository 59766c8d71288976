using static Pipeline.Edge.Sources.Syslog.SyslogBytes;

namespace Pipeline.Edge.Sources.Syslog;

/// <summary>
/// Devices that write <c>key=value</c> pairs instead of a syslog header (FortiGate: <c>&lt;189&gt;date=2024-03-01
/// time=10:00:00 devname="fw1" ... tz="+0100"</c>): the event time is read from the leading <c>date=</c> and
/// <c>time=</c>, with the zone from a top-level <c>tz=</c> when there is one. The whole text stays the message.
/// </summary>
internal static class KeyValueHeader
{
    /// <summary>Reads <c>date=YYYY-MM-DD time=hh:mm:ss</c> at <paramref name="pos"/> (values optionally quoted) and <c>tz=</c> anywhere after it.</summary>
    public static bool TryRead(ReadOnlySpan<byte> line, int pos, out TimestampParts parts)
    {
        parts = default;
        var rest = line[pos..];
        if (!rest.StartsWith("date="u8)) return false;
        var i = 5;
        if (!ReadValue(rest, ref i, out var date) || date.Length != 10 || date[4] != '-' || date[7] != '-'
            || !Number(date[..4], out parts.Year) || !Number(date.Slice(5, 2), out parts.Month) || !Number(date.Slice(8, 2), out parts.Day))
        {
            return false;
        }

        if (i >= rest.Length || rest[i] != ' ' || !rest[(i + 1)..].StartsWith("time="u8)) return false;
        i += 6;
        if (!ReadValue(rest, ref i, out var time) || SyslogTimestamp.ParseTime(time, 0, ref parts) != time.Length
            || parts.Year == 0 || !SyslogTimestamp.FieldsInRange(parts))
        {
            return false;
        }

        if (TryZone(rest[i..], out var minutes))
        {
            parts.HasOffset = true;
            parts.OffsetMinutes = minutes;
        }

        return true;
    }

    /// <summary>A top-level <c>tz="+hhmm"</c> (or <c>±hh:mm</c>, quoted or not); text inside quoted values is skipped.</summary>
    private static bool TryZone(ReadOnlySpan<byte> s, out int minutes)
    {
        minutes = 0;
        var quoted = false;
        for (var i = 0; i < s.Length; i++)
        {
            var b = s[i];
            if (b == '"')
            {
                quoted = !quoted;
            }
            else if (!quoted && b == ' ' && s[(i + 1)..].StartsWith("tz="u8))
            {
                var j = i + 4;
                return ReadValue(s, ref j, out var zone) && ReadOffset(zone, out minutes);
            }
        }

        return false;
    }

    /// <summary><c>±hhmm</c> or <c>±hh:mm</c>, at most ±14:00.</summary>
    private static bool ReadOffset(ReadOnlySpan<byte> zone, out int minutes)
    {
        minutes = 0;
        if (zone.Length is not (5 or 6) || zone[0] is not ((byte)'+' or (byte)'-') || (zone.Length == 6 && zone[3] != ':')
            || !Number(zone.Slice(1, 2), out var hours) || !Number(zone[^2..], out var mins) || mins > 59 || hours * 60 + mins > 14 * 60)
        {
            return false;
        }

        minutes = (hours * 60 + mins) * (zone[0] == '-' ? -1 : 1);
        return true;
    }

    /// <summary>A value up to the next space, or between quotes; <paramref name="i"/> moves past it.</summary>
    private static bool ReadValue(ReadOnlySpan<byte> s, ref int i, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (i >= s.Length) return false;
        if (s[i] == '"')
        {
            var close = s[(i + 1)..].IndexOf((byte)'"');
            if (close < 0) return false;
            value = s.Slice(i + 1, close);
            i += close + 2;
            return true;
        }

        var end = s[i..].IndexOf((byte)' ');
        value = end < 0 ? s[i..] : s.Slice(i, end);
        i += value.Length;
        return !value.IsEmpty;
    }

    private static bool Number(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (var b in digits)
        {
            if (!IsDigit(b)) return false;
            value = value * 10 + (b - '0');
        }

        return !digits.IsEmpty;
    }
}
