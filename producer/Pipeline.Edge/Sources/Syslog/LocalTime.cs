namespace Pipeline.Edge.Sources.Syslog;

/// <summary>Turns the date and time fields a line wrote into an instant: its own offset, or a zone and a year found for it.</summary>
internal static class LocalTime
{
    private static readonly long MaxTicks = DateTime.MaxValue.Ticks;
    private static readonly long ThreeHours = TimeSpan.TicksPerHour * 3;

    /// <summary>An instant from fields that carry their own offset.</summary>
    public static bool TryCreate(in TimestampParts p, out DateTimeOffset value)
    {
        value = default;
        return TryLocalTicks(p, p.Year, out var ticks) && TryCreate(ticks, TimeSpan.FromMinutes(p.OffsetMinutes), out value);
    }

    /// <summary>
    /// An instant from wall-clock fields read in <paramref name="zone"/>. A missing year is the latest that does not put
    /// the date more than <paramref name="futureWindow"/> ahead of <paramref name="receivedAt"/> (read in the same zone),
    /// as syslog-ng and rsyslog decide it: a Dec 31 line received on Jan 1 is last year's, a Jan 1 line received on
    /// Dec 31 is next year's, and a Jan 5 line received on Dec 4 (32 days ahead) is from the January just gone. A time
    /// in a DST gap uses the offset in force before the gap (02:30 on a spring-forward night reads as 03:30 summer
    /// time, the way java.time and most tools resolve it); a time that occurs twice takes the offset that puts it
    /// nearest to <paramref name="receivedAt"/>.
    /// </summary>
    /// <remarks>Fields that carry their own offset (a zone label) use it instead of <paramref name="zone"/>.</remarks>
    public static bool TryResolve(in TimestampParts p, TimeZoneInfo zone, DateTimeOffset receivedAt, TimeSpan futureWindow, out DateTimeOffset value)
    {
        value = default;
        var fixedOffset = TimeSpan.FromMinutes(p.OffsetMinutes);
        long ticks;
        if (p.Year != 0)
        {
            if (!TryLocalTicks(p, p.Year, out ticks)) return false;
        }
        else
        {
            var receivedLocal = p.HasOffset ? receivedAt.UtcTicks + fixedOffset.Ticks
                : ReferenceEquals(zone, TimeZoneInfo.Utc) ? receivedAt.UtcTicks
                : TimeZoneInfo.ConvertTime(receivedAt, zone).Ticks;
            if (!TryInferYear(p, receivedLocal, futureWindow, out ticks)) return false;
        }

        var offset = p.HasOffset ? fixedOffset : OffsetOf(new DateTime(ticks, DateTimeKind.Unspecified), zone, receivedAt);
        return TryCreate(ticks, offset, out value);
    }

    private static bool TryInferYear(in TimestampParts p, long receivedLocal, TimeSpan futureWindow, out long ticks)
    {
        var latest = receivedLocal + futureWindow.Ticks;
        var receivedYear = new DateTime(receivedLocal).Year;
        for (var year = receivedYear + 1; year >= receivedYear - 1; year--)
        {
            // Feb 29 exists only in leap years: a year without it is skipped, not a reason to give up.
            if (TryLocalTicks(p, year, out ticks) && ticks <= latest) return true;
        }

        ticks = 0;
        return false;
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
}
