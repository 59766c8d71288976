using System.Globalization;
using System.Text.Unicode;

namespace Pipeline.Edge.Sources.Scrape.Exposition;

/// <summary>
/// Reads the Prometheus text exposition format (0.0.4, with the quoted UTF-8 names of later versions) and
/// OpenMetrics text 1.0 into offsets and numbers (<see cref="ParsedExposition"/>) in one pass over the bytes:
/// no string is made, no per-sample object allocated. A body is taken whole or not at all — one bad line
/// refuses the scrape with the line number and the reason, as Prometheus does and OpenMetrics requires —
/// so a target never half-reports. Written here because no maintained .NET package parses the format.
/// </summary>
internal static class ExpositionParser
{
    /// <summary>Labels on one sample, at most (a line with more is refused: it is not a metric, it is an attack).</summary>
    public const int MaxLabels = 128;

    private const long MinTimestampMs = -62_135_596_800_000; // 0001-01-01, the first instant a DateTimeOffset holds
    private const long MaxTimestampMs = 253_402_300_799_999; // 9999-12-31

    public static ExpositionError? Parse(ReadOnlySpan<byte> body, ExpositionFormat format, int sampleLimit, ParsedExposition into)
    {
        into.Reset(format);
        if (!Utf8.IsValid(body)) return new ExpositionError(LineOf(body, FirstInvalidUtf8(body)), "not UTF-8");
        var state = new State(format, sampleLimit);
        var pos = 0;
        var line = 0;
        while (pos < body.Length)
        {
            line++;
            var next = body[pos..].IndexOf((byte)'\n');
            var end = next < 0 ? body.Length : pos + next;
            var error = ParseLine(body, pos, end, ref state, into);
            if (error is not null) return new ExpositionError(line, error, state.OverLimit);
            pos = end + 1;
        }
        if (format == ExpositionFormat.OpenMetrics && !state.SawEof)
            return new ExpositionError(0, "no '# EOF' line: the exposition is incomplete");
        return null;
    }

    private struct State(ExpositionFormat format, int sampleLimit)
    {
        public readonly ExpositionFormat Format = format;
        public readonly int SampleLimit = sampleLimit;
        public int Family = -1;
        public bool SawEof;
        public bool OverLimit;
        public readonly bool OpenMetrics => Format == ExpositionFormat.OpenMetrics;
    }

    private static string? ParseLine(ReadOnlySpan<byte> b, int i, int end, ref State state, ParsedExposition into)
    {
        // Tolerated although neither format allows it: CRLF line ends (hand-written files on Windows hosts).
        if (end > i && b[end - 1] == '\r') end--;
        SkipBlanks(b, ref i, end);
        if (i == end) return null;
        if (state.SawEof) return "text after '# EOF'";
        return b[i] == '#' ? ParseComment(b, i + 1, end, ref state, into) : ParseSample(b, i, end, ref state, into);
    }

    private static string? ParseComment(ReadOnlySpan<byte> b, int i, int end, ref State state, ParsedExposition into)
    {
        SkipBlanks(b, ref i, end);
        var keyword = Token(b, ref i, end);
        var isHelp = keyword.SequenceEqual("HELP"u8);
        var isType = keyword.SequenceEqual("TYPE"u8);
        var isUnit = keyword.SequenceEqual("UNIT"u8);
        if (keyword.SequenceEqual("EOF"u8) && state.OpenMetrics)
        {
            SkipBlanks(b, ref i, end);
            if (i != end) return "text after '# EOF'";
            state.SawEof = true;
            return null;
        }
        // Any other comment is ignored (the text format allows them; OpenMetrics exposers do not send them).
        if (!(isHelp || isType || isUnit)) return null;
        SkipBlanks(b, ref i, end);
        if (i == end) return $"# {Ascii(keyword)} without a metric name";
        var name = MetricName(b, ref i, end, out _, out var error);
        if (error is not null) return error;
        var family = FamilyFor(b, name, ref state, into);
        if (isHelp) return null; // the docstring is not carried
        if (i < end && !IsBlank(b[i])) return "a blank must follow the metric name";
        SkipBlanks(b, ref i, end);
        var token = Token(b, ref i, end);
        SkipBlanks(b, ref i, end);
        if (isType)
        {
            if (token.IsEmpty) return "# TYPE without a type";
            if (!MetricTypeNames.TryParse(token, out var type)) return $"unknown metric type '{Ascii(token)}'";
            if (i != end) return "text after the metric type";
            into.Families[family] = into.Families[family] with { Type = type };
        }
        else if (token.Length > 0)
        {
            if (i != end) return "text after the unit";
            into.Families[family] = into.Families[family] with { Unit = new BodyRange(i - token.Length, token.Length) };
        }
        return null;
    }

    /// <summary>The family a metadata line speaks of: the current one when it names it again, else a new one.</summary>
    private static int FamilyFor(ReadOnlySpan<byte> b, BodyRange name, ref State state, ParsedExposition into)
    {
        if (state.Family >= 0 && into.Families[state.Family].Name.Of(b).SequenceEqual(name.Of(b))) return state.Family;
        into.Families.Add(new ParsedFamily { Name = name, Type = state.OpenMetrics ? MetricType.Unknown : MetricType.Untyped });
        return state.Family = into.Families.Count - 1;
    }

    private static string? ParseSample(ReadOnlySpan<byte> b, int i, int end, ref State state, ParsedExposition into)
    {
        var start = i;
        var name = default(BodyRange);
        var nameEscaped = false;
        var labels = default(BodyRange);
        string? error;
        if (b[i] != '{')
        {
            name = MetricName(b, ref i, end, out nameEscaped, out error);
            if (error is not null) return error;
            // Blanks may stand between a name and its labels; without labels they belong to the separator.
            var afterName = i;
            SkipBlanks(b, ref i, end);
            if (i == end || b[i] != '{') i = afterName;
        }
        if (i < end && b[i] == '{')
        {
            error = Labels(b, ref i, end, ref name, ref nameEscaped, out labels, exemplar: false);
            if (error is not null) return error;
            if (name.Length == 0) return "no metric name";
        }
        var series = new BodyRange(start, i - start);
        if (i < end && !IsBlank(b[i])) return "a blank must separate the series from its value";
        SkipBlanks(b, ref i, end);
        var token = Token(b, ref i, end);
        if (token.IsEmpty) return "no value";
        if (!TryParseValue(token, out var value)) return $"'{Ascii(token)}' is not a number";
        SkipBlanks(b, ref i, end);

        var hasTimestamp = false;
        long timestampMs = 0;
        if (i < end && b[i] != '#')
        {
            token = Token(b, ref i, end);
            if (!TryParseTimestamp(token, state.OpenMetrics, out timestampMs)) return $"'{Ascii(token)}' is not a timestamp";
            hasTimestamp = true;
            SkipBlanks(b, ref i, end);
        }
        if (i < end)
        {
            if (b[i] != '#' || !state.OpenMetrics) return "text after the value";
            error = Exemplar(b, i + 1, end);
            if (error is not null) return error;
        }

        if (into.SampleCount >= state.SampleLimit)
        {
            state.OverLimit = true;
            return $"more than {state.SampleLimit} samples (the target's sample limit)";
        }
        ref var sample = ref into.Add();
        sample.Name = name;
        sample.NameEscaped = nameEscaped;
        sample.Labels = labels;
        sample.Series = series;
        sample.Value = value;
        sample.HasTimestamp = hasTimestamp;
        sample.TimestampMs = timestampMs;
        (sample.Family, sample.Cumulative) = FamilyOf(b, name, state, into);
        return null;
    }

    /// <summary>
    /// The family of the latest metadata lines covers a sample whose name is the family's own or the
    /// family's plus a suffix its type allows (<c>_bucket</c>, <c>_sum</c>, <c>_total</c>, …).
    /// </summary>
    private static (int Family, bool Cumulative) FamilyOf(ReadOnlySpan<byte> b, BodyRange name, in State state, ParsedExposition into)
    {
        if (state.Family < 0) return (-1, false);
        var family = into.Families[state.Family];
        var sampleName = name.Of(b);
        var familyName = family.Name.Of(b);
        if (!sampleName.StartsWith(familyName)) return (-1, false);
        var suffix = sampleName[familyName.Length..];
        return family.Type switch
        {
            MetricType.Counter when suffix.IsEmpty || suffix.SequenceEqual("_total"u8) => (state.Family, true),
            MetricType.Counter when suffix.SequenceEqual("_created"u8) => (state.Family, false),
            MetricType.Histogram when suffix.SequenceEqual("_bucket"u8) || suffix.SequenceEqual("_count"u8) || suffix.SequenceEqual("_sum"u8) => (state.Family, true),
            MetricType.Histogram when suffix.SequenceEqual("_created"u8) => (state.Family, false),
            MetricType.Summary when suffix.SequenceEqual("_count"u8) || suffix.SequenceEqual("_sum"u8) => (state.Family, true),
            MetricType.Summary when suffix.IsEmpty || suffix.SequenceEqual("_created"u8) => (state.Family, false),
            MetricType.GaugeHistogram when suffix.SequenceEqual("_bucket"u8) || suffix.SequenceEqual("_gcount"u8) || suffix.SequenceEqual("_gsum"u8) => (state.Family, false),
            MetricType.Info when suffix.IsEmpty || suffix.SequenceEqual("_info"u8) => (state.Family, false),
            MetricType.Gauge or MetricType.StateSet or MetricType.Untyped or MetricType.Unknown when suffix.IsEmpty => (state.Family, false),
            _ => (-1, false),
        };
    }

    /// <summary>A metric name: an identifier, or a quoted UTF-8 string (whose range is inside the quotes).</summary>
    private static BodyRange MetricName(ReadOnlySpan<byte> b, ref int i, int end, out bool escaped, out string? error)
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
    private static string? Labels(ReadOnlySpan<byte> b, ref int i, int end, ref BodyRange name, ref bool nameEscaped, out BodyRange labels, bool exemplar)
    {
        labels = default;
        i++; // '{'
        var inside = i;
        Span<BodyRange> seen = stackalloc BodyRange[MaxLabels];
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
            if (count == MaxLabels) return $"more than {MaxLabels} labels";
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
    private static bool Separator(ReadOnlySpan<byte> b, ref int i, int end, out string? error)
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
    private static BodyRange Quoted(ReadOnlySpan<byte> b, ref int i, int end, out bool escaped, out string? error)
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
    private static string? Exemplar(ReadOnlySpan<byte> b, int i, int end)
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

    private static ReadOnlySpan<byte> Token(ReadOnlySpan<byte> b, ref int i, int end)
    {
        var start = i;
        while (i < end && !IsBlank(b[i])) i++;
        return b[start..i];
    }

    private static void SkipBlanks(ReadOnlySpan<byte> b, ref int i, int end)
    {
        while (i < end && IsBlank(b[i])) i++;
    }

    private static bool IsBlank(byte c) => c is (byte)' ' or (byte)'\t';

    private static bool IsMetricNameStart(byte c) => char.IsAsciiLetter((char)c) || c is (byte)'_' or (byte)':';

    private static bool IsMetricNameChar(byte c) => char.IsAsciiLetterOrDigit((char)c) || c is (byte)'_' or (byte)':';

    private static bool IsLabelNameStart(byte c) => char.IsAsciiLetter((char)c) || c == '_';

    private static bool IsLabelNameChar(byte c) => char.IsAsciiLetterOrDigit((char)c) || c == '_';

    private static string Ascii(ReadOnlySpan<byte> text)
    {
        var shown = text.Length > 40 ? text[..40] : text;
        var chars = new char[shown.Length];
        for (var k = 0; k < shown.Length; k++) chars[k] = Printable(shown[k]);
        return new string(chars) + (text.Length > 40 ? "…" : "");
    }

    private static char Printable(byte c) => c is >= 0x20 and < 0x7f ? (char)c : '?';

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> body)
    {
        var at = 0;
        while (at < body.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(body[at..], out _, out var consumed) != System.Buffers.OperationStatus.Done) return at;
            at += consumed;
        }
        return at;
    }

    private static int LineOf(ReadOnlySpan<byte> body, int offset) => body[..Math.Min(offset, body.Length)].Count((byte)'\n') + 1;
}
