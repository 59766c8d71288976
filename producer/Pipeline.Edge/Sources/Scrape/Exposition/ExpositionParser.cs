using System.Globalization;
using System.Text.Unicode;
using static Pipeline.Edge.Sources.Scrape.Exposition.ExpositionTokens;

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
