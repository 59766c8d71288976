using System.Globalization;
using System.Text.Unicode;

namespace Pipeline.Edge.Sources.Scrape.Exposition;

/// <summary>
/// The tokens of an exposition line, read from the bytes in place: metric and label names (bare or quoted), label
/// sets, quoted values with their escapes, numbers and timestamps as both formats write them, and exemplars.
/// Each reader advances its index past what it read or says why it cannot.
/// </summary>
internal static class ExpositionTokens
{
    private const long MinTimestampMs = -62_135_596_800_000; // 0001-01-01, the first instant a DateTimeOffset holds
    private const long MaxTimestampMs = 253_402_300_799_999; // 9999-12-31

    /// <summary>A metric name: an identifier, or a quoted UTF-8 string (whose range is inside the quotes).</summary>
    internal static BodyRange MetricName(ReadOnlySpan<byte> b, ref int i, int end, out bool escaped, out string? error)
    {
        escaped = false;
        error = null;
        if (b[i] == '"') return Quoted(b, ref i, end, out escaped, out error);
        var start = i;
        if (!IsMetricNameStart(b[i]))
        {
            error = $"'{Printable(b[i])}' cannot start a metric name";
            return default;
        }
        i++;
        while (i < end && IsMetricNameChar(b[i])) i++;
        return new BodyRange(start, i - start);
    }

    /// <summary>
    /// <c>{name="value", …}</c>, where a name may be quoted and a bare quoted string is the metric name (the
    /// UTF-8 form <c>{"my.metric", a="b"}</c>). Checks every pair; <paramref name="labels"/> is the inside.
    /// </summary>
    internal static string? Labels(ReadOnlySpan<byte> b, ref int i, int end, ref BodyRange name, ref bool nameEscaped, out BodyRange labels, bool exemplar)
    {
        labels = default;
        i++; // '{'
        var inside = i;
        Span<BodyRange> seen = stackalloc BodyRange[ExpositionParser.MaxLabels];
        var count = 0;
        string? error;
        while (true)
        {
            SkipBlanks(b, ref i, end);
            if (i == end) return "unterminated label set";
            if (b[i] == '}') break;
            BodyRange label;
            if (b[i] == '"')
            {
                label = Quoted(b, ref i, end, out var escaped, out error);
                if (error is not null) return error;
                SkipBlanks(b, ref i, end);
                if (i == end || b[i] != '=')
                {
                    if (exemplar) return "an exemplar has no metric name";
                    if (name.Length > 0) return "two metric names";
                    if (label.Length == 0) return "an empty metric name";
                    (name, nameEscaped) = (label, escaped);
                    if (!Separator(b, ref i, end, out error)) return error;
                    if (b[i] == '}') break;
                    continue;
                }
            }
            else
            {
                var start = i;
                if (!IsLabelNameStart(b[i])) return $"'{Printable(b[i])}' cannot start a label name";
                while (i < end && IsLabelNameChar(b[i])) i++;
                label = new BodyRange(start, i - start);
                SkipBlanks(b, ref i, end);
                if (i == end || b[i] != '=') return $"label '{Ascii(label.Of(b))}' has no '='";
            }
            i++; // '='
            SkipBlanks(b, ref i, end);
            if (i == end || b[i] != '"') return $"label '{Ascii(label.Of(b))}' has no quoted value";
            Quoted(b, ref i, end, out _, out error);
            if (error is not null) return error;
            if (count == ExpositionParser.MaxLabels) return $"more than {ExpositionParser.MaxLabels} labels";
            foreach (var other in seen[..count])
                if (other.Of(b).SequenceEqual(label.Of(b))) return $"label '{Ascii(label.Of(b))}' given twice";
            seen[count++] = label;
            if (!Separator(b, ref i, end, out error)) return error;
            if (b[i] == '}') break;
        }
        labels = new BodyRange(inside, i - inside);
        i++; // '}'
        return null;
    }

    /// <summary>After an item: blanks, then ',' (consumed) or '}' (left for the caller).</summary>
    internal static bool Separator(ReadOnlySpan<byte> b, ref int i, int end, out string? error)
    {
        error = null;
        SkipBlanks(b, ref i, end);
        if (i < end && b[i] == ',')
        {
            i++;
            SkipBlanks(b, ref i, end);
            if (i < end) return true;
        }
        else if (i < end && b[i] == '}')
        {
            return true;
        }
        error = "expected ',' or '}' in the label set";
        return false;
    }

    /// <summary>A double-quoted string from <c>b[i] == '"'</c>; the range is inside the quotes, escapes left as they are.</summary>
    internal static BodyRange Quoted(ReadOnlySpan<byte> b, ref int i, int end, out bool escaped, out string? error)
    {
        escaped = false;
        error = null;
        var start = ++i;
        while (true)
        {
            var at = b[i..end].IndexOfAny((byte)'"', (byte)'\\');
            if (at < 0)
            {
                error = "unterminated quoted string";
                return default;
            }
            i += at;
            if (b[i] == '"') break;
            escaped = true;
            i += 2; // the backslash and the character it escapes
            if (i >= end)
            {
                error = "unterminated quoted string";
                return default;
            }
        }
        var range = new BodyRange(start, i - start);
        i++;
        return range;
    }

    /// <summary>An OpenMetrics exemplar after its '#': <c>{labels} value [timestamp]</c>. Checked, not kept.</summary>
    internal static string? Exemplar(ReadOnlySpan<byte> b, int i, int end)
    {
        SkipBlanks(b, ref i, end);
        if (i == end || b[i] != '{') return "an exemplar must start with '{'";
        BodyRange none = default;
        var escaped = false;
        var error = Labels(b, ref i, end, ref none, ref escaped, out _, exemplar: true);
        if (error is not null) return "exemplar: " + error;
        SkipBlanks(b, ref i, end);
        if (!TryParseValue(Token(b, ref i, end), out _)) return "exemplar: no value";
        SkipBlanks(b, ref i, end);
        if (i < end && !TryParseTimestamp(Token(b, ref i, end), openMetrics: true, out _)) return "exemplar: bad timestamp";
        SkipBlanks(b, ref i, end);
        return i == end ? null : "text after the exemplar";
    }

    /// <summary>A float as Go's <c>ParseFloat</c> reads it for the format: decimal, exponent, <c>NaN</c>, <c>±Inf</c> (any case).</summary>
    public static bool TryParseValue(ReadOnlySpan<byte> token, out double value)
    {
        if (token.IsEmpty)
        {
            value = 0;
            return false;
        }
        var body = token[0] is (byte)'+' or (byte)'-' ? token[1..] : token;
        if (System.Text.Ascii.EqualsIgnoreCase(body, "inf"u8) || System.Text.Ascii.EqualsIgnoreCase(body, "infinity"u8))
        {
            value = token[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (System.Text.Ascii.EqualsIgnoreCase(token, "nan"u8))
        {
            value = double.NaN;
            return true;
        }
        // Digits, sign, point and exponent only: .NET would also take "∞" and culture symbols the format does not.
        foreach (var c in body)
            if (!(char.IsAsciiDigit((char)c) || c is (byte)'.' or (byte)'e' or (byte)'E' or (byte)'+' or (byte)'-'))
            {
                value = 0;
                return false;
            }
        return double.TryParse(token, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
            CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Milliseconds since the epoch: an integer of milliseconds (text 0.0.4) or a number of seconds (OpenMetrics).</summary>
    public static bool TryParseTimestamp(ReadOnlySpan<byte> token, bool openMetrics, out long milliseconds)
    {
        milliseconds = 0;
        if (openMetrics)
        {
            if (!TryParseValue(token, out var seconds) || !double.IsFinite(seconds)) return false;
            var ms = Math.Round(seconds * 1000);
            if (ms < MinTimestampMs || ms > MaxTimestampMs) return false;
            milliseconds = (long)ms;
            return true;
        }
        return long.TryParse(token, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out milliseconds)
            && milliseconds is >= MinTimestampMs and <= MaxTimestampMs;
    }

    internal static ReadOnlySpan<byte> Token(ReadOnlySpan<byte> b, ref int i, int end)
    {
        var start = i;
        while (i < end && !IsBlank(b[i])) i++;
        return b[start..i];
    }

    internal static void SkipBlanks(ReadOnlySpan<byte> b, ref int i, int end)
    {
        while (i < end && IsBlank(b[i])) i++;
    }

    internal static bool IsBlank(byte c) => c is (byte)' ' or (byte)'\t';

    internal static bool IsMetricNameStart(byte c) => char.IsAsciiLetter((char)c) || c is (byte)'_' or (byte)':';

    internal static bool IsMetricNameChar(byte c) => char.IsAsciiLetterOrDigit((char)c) || c is (byte)'_' or (byte)':';

    internal static bool IsLabelNameStart(byte c) => char.IsAsciiLetter((char)c) || c == '_';

    internal static bool IsLabelNameChar(byte c) => char.IsAsciiLetterOrDigit((char)c) || c == '_';

    internal static string Ascii(ReadOnlySpan<byte> text)
    {
        var shown = text.Length > 40 ? text[..40] : text;
        var chars = new char[shown.Length];
        for (var k = 0; k < shown.Length; k++) chars[k] = Printable(shown[k]);
        return new string(chars) + (text.Length > 40 ? "…" : "");
    }

    internal static char Printable(byte c) => c is >= 0x20 and < 0x7f ? (char)c : '?';
}
