using System.Globalization;

namespace Pipeline.Ops.Cli;

/// <summary>Where a position should be: the earliest or latest offset, one offset, or the first record at or after a time.</summary>
internal sealed record PositionSpec(PositionKind Kind, long Offset = 0, DateTimeOffset Time = default)
{
    public static PositionSpec Earliest { get; } = new(PositionKind.Earliest);
    public static PositionSpec Latest { get; } = new(PositionKind.Latest);

    /// <summary><c>earliest</c>, <c>latest</c>, an offset (digits), or a point in time (see <see cref="PointInTime"/>).</summary>
    public static PositionSpec Parse(string text, string option, DateTimeOffset now)
    {
        var value = text.Trim();
        if (value.Equals("earliest", StringComparison.OrdinalIgnoreCase)) return Earliest;
        if (value.Equals("latest", StringComparison.OrdinalIgnoreCase)) return Latest;
        if (value.Length > 0 && value.All(char.IsAsciiDigit))
        {
            if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
                throw new UsageException($"{option} {text}: the offset is too large");
            return new PositionSpec(PositionKind.Offset, offset);
        }
        if (PointInTime.TryParse(value, now, out var time)) return new PositionSpec(PositionKind.Time, Time: time);
        throw new UsageException($"{option} '{text}' is not earliest, latest, an offset, now, a relative time like -1h, or an RFC 3339 time like 2026-11-21T10:00:00Z");
    }

    public override string ToString() => Kind switch
    {
        PositionKind.Earliest => "earliest",
        PositionKind.Latest => "latest",
        PositionKind.Offset => Offset.ToString(CultureInfo.InvariantCulture),
        _ => Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
    };
}

internal enum PositionKind
{
    Earliest,
    Latest,
    Offset,
    Time,
}
