using System.Globalization;

namespace Pipeline.Consumers.TopK.Windows;

/// <summary>
/// A tumbling window size (1 minute, 1 hour): windows are aligned on the Unix epoch, so every process and
/// every partition cuts time at the same boundaries, and <c>[start, start + size)</c> holds an event whose
/// <c>received_at</c> falls in it.
/// </summary>
internal readonly record struct Granularity
{
    private static readonly long EpochTicks = DateTimeOffset.UnixEpoch.UtcTicks;

    public Granularity(TimeSpan size)
    {
        if (size < TimeSpan.FromSeconds(1) || size.Ticks % TimeSpan.TicksPerSecond != 0 || size > TimeSpan.FromDays(7))
            throw new ArgumentException($"a window size must be whole seconds between 1 s and 7 days, not {size}");
        Size = size;
    }

    public TimeSpan Size { get; }

    /// <summary>The size in seconds (as stored in <c>granularity_s</c>).</summary>
    public int Seconds => (int)(Size.Ticks / TimeSpan.TicksPerSecond);

    /// <summary>Short form used in the query and in messages: <c>1m</c>, <c>1h</c>, <c>30s</c>, <c>1d</c>.</summary>
    public string Label => Seconds switch
    {
        var s when s % 86400 == 0 => (s / 86400).ToString(CultureInfo.InvariantCulture) + "d",
        var s when s % 3600 == 0 => (s / 3600).ToString(CultureInfo.InvariantCulture) + "h",
        var s when s % 60 == 0 => (s / 60).ToString(CultureInfo.InvariantCulture) + "m",
        var s => s.ToString(CultureInfo.InvariantCulture) + "s",
    };

    /// <summary>Start of the window holding <paramref name="at"/>, in UTC ticks.</summary>
    public long StartTicks(DateTimeOffset at) => StartTicks(at.UtcTicks);

    public long StartTicks(long utcTicks)
    {
        var sinceEpoch = utcTicks - EpochTicks;
        var offset = sinceEpoch % Size.Ticks;
        if (offset < 0) offset += Size.Ticks;
        return utcTicks - offset;
    }

    public DateTimeOffset Start(DateTimeOffset at) => new(StartTicks(at), TimeSpan.Zero);

    public override string ToString() => Label;

    /// <summary>Reads <c>1m</c>, <c>90s</c>, <c>1h</c>, <c>1d</c> or a TimeSpan (<c>00:01:00</c>).</summary>
    public static bool TryParse(string? text, out TimeSpan size)
    {
        size = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var unit = text[^1];
        if (char.IsAsciiLetter(unit) && long.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 && n < 1_000_000)
        {
            long? seconds = unit switch { 's' => n, 'm' => n * 60, 'h' => n * 3600, 'd' => n * 86400, _ => null };
            if (seconds is null) return false;
            size = TimeSpan.FromSeconds(seconds.Value);
            return true;
        }
        return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out size) && size > TimeSpan.Zero;
    }
}
