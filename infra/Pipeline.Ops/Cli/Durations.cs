using System.Globalization;

namespace Pipeline.Ops.Cli;

/// <summary>Durations as operators write them: <c>500ms</c>, <c>5s</c>, <c>2m</c>, <c>1h</c>, or <c>hh:mm:ss</c>.</summary>
internal static class Durations
{
    public static TimeSpan Parse(string text, string option)
    {
        var value = text.Trim();
        foreach (var (suffix, unit) in new[] { ("ms", TimeSpan.FromMilliseconds(1)), ("s", TimeSpan.FromSeconds(1)), ("m", TimeSpan.FromMinutes(1)), ("h", TimeSpan.FromHours(1)) })
        {
            if (value.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(value.AsSpan(0, value.Length - suffix.Length), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) && amount >= 0)
                return unit * amount;
        }
        if (TimeSpan.TryParse(value, CultureInfo.InvariantCulture, out var span) && span >= TimeSpan.Zero) return span;
        throw new UsageException($"{option} '{text}' is not a duration like 500ms, 5s, 2m or 00:00:05");
    }
}
