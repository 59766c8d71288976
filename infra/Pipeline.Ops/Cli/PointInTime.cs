using System.Globalization;

namespace Pipeline.Ops.Cli;

/// <summary>
/// A point in time as operators write it: <c>now</c>, a time relative to now (<c>-1h</c>, <c>-30m</c>,
/// <c>-2d</c>, <c>-90s</c>), or an RFC 3339 time (<c>2026-11-21T10:00:00Z</c>).
/// </summary>
internal static class PointInTime
{
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset time)
    {
        time = default;
        text = text.Trim();
        if (text.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            time = now;
            return true;
        }
        if (text.Length >= 3 && text[0] == '-' && char.IsAsciiLetter(text[^1])
            && double.TryParse(text.AsSpan(1, text.Length - 2), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            TimeSpan? span = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            if (span is null) return false;
            time = now - span.Value;
            return true;
        }
        // A time without an offset would silently mean the machine's zone: require one.
        if (text.Length > 10 && (text.EndsWith('Z') || text.EndsWith('z') || HasOffset(text))
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
            return true;
        return false;
    }

    private static bool HasOffset(string text)
    {
        var t = text.IndexOf('T', StringComparison.OrdinalIgnoreCase);
        if (t < 0) return false;
        var tail = text[t..];
        return tail.Contains('+', StringComparison.Ordinal) || tail.LastIndexOf('-') > 0;
    }
}
