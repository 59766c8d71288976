using System.Buffers;
using System.Text.Json;

namespace Pipeline.Edge.Sources.Scrape.Exposition;

/// <summary>Which text format a scraped body is in, from its <c>Content-Type</c>.</summary>
internal enum ExpositionFormat
{
    /// <summary><c>text/plain; version=0.0.4</c> (and anything unnamed): timestamps in integer milliseconds.</summary>
    PrometheusText,
    /// <summary><c>application/openmetrics-text</c>: timestamps in seconds, exemplars, <c># EOF</c> required.</summary>
    OpenMetrics,
}

/// <summary>A metric family's type, as its <c># TYPE</c> line says (untyped when none does).</summary>
internal enum MetricType : byte
{
    Untyped,
    Counter,
    Gauge,
    Histogram,
    Summary,
    GaugeHistogram,
    StateSet,
    Info,
    Unknown,
}

/// <summary>The names of <see cref="MetricType"/> in the exposition format and in envelopes, encoded once.</summary>
internal static class MetricTypeNames
{
    private static readonly JsonEncodedText[] Encoded =
        [.. Enum.GetValues<MetricType>().Select(t => JsonEncodedText.Encode(Name(t)))];

    public static JsonEncodedText Json(MetricType type) => Encoded[(int)type];

    public static string Name(MetricType type) => type switch
    {
        MetricType.Counter => "counter",
        MetricType.Gauge => "gauge",
        MetricType.Histogram => "histogram",
        MetricType.Summary => "summary",
        MetricType.GaugeHistogram => "gaugehistogram",
        MetricType.StateSet => "stateset",
        MetricType.Info => "info",
        MetricType.Unknown => "unknown",
        _ => "untyped",
    };

    public static bool TryParse(ReadOnlySpan<byte> token, out MetricType type)
    {
        type = token switch
        {
            _ when token.SequenceEqual("counter"u8) => MetricType.Counter,
            _ when token.SequenceEqual("gauge"u8) => MetricType.Gauge,
            _ when token.SequenceEqual("histogram"u8) => MetricType.Histogram,
            _ when token.SequenceEqual("summary"u8) => MetricType.Summary,
            _ when token.SequenceEqual("untyped"u8) => MetricType.Untyped,
            _ when token.SequenceEqual("gaugehistogram"u8) => MetricType.GaugeHistogram,
            _ when token.SequenceEqual("stateset"u8) => MetricType.StateSet,
            _ when token.SequenceEqual("info"u8) => MetricType.Info,
            _ when token.SequenceEqual("unknown"u8) => MetricType.Unknown,
            _ => (MetricType)255,
        };
        return (byte)type != 255;
    }
}

/// <summary>A text range of the scraped body.</summary>
internal readonly record struct BodyRange(int Start, int Length)
{
    public ReadOnlySpan<byte> Of(ReadOnlySpan<byte> body) => body.Slice(Start, Length);
}

/// <summary>One metric family declared by <c># TYPE</c> / <c># HELP</c> / <c># UNIT</c> lines.</summary>
internal struct ParsedFamily
{
    /// <summary>The family name as written (inside the quotes when quoted).</summary>
    public BodyRange Name;
    public MetricType Type;
    /// <summary>The unit of a <c># UNIT</c> line; empty when none.</summary>
    public BodyRange Unit;
}

/// <summary>One sample line, as offsets into the body and its parsed numbers: nothing is copied.</summary>
internal struct ParsedSample
{
    /// <summary>The metric name as written (inside the quotes when quoted; <see cref="NameEscaped"/> when it holds escapes).</summary>
    public BodyRange Name;
    public bool NameEscaped;
    /// <summary>What is between the braces (empty when none); read it with <see cref="LabelReader"/>.</summary>
    public BodyRange Labels;
    /// <summary>Name and labels exactly as written: the series' identity within its target.</summary>
    public BodyRange Series;
    public double Value;
    public bool HasTimestamp;
    /// <summary>Milliseconds since the Unix epoch, when <see cref="HasTimestamp"/>.</summary>
    public long TimestampMs;
    /// <summary>The family (index into <see cref="ParsedExposition.Families"/>) whose TYPE line covers it; -1 when none does.</summary>
    public int Family;
    /// <summary>A running total (a counter's value, a histogram's buckets, count and sum): its increase between scrapes means something.</summary>
    public bool Cumulative;
    /// <summary>The increase since the same series' previous scrape (set by <see cref="SeriesMemory"/>); NaN when there is none.</summary>
    public double Delta;
}

/// <summary>
/// What <see cref="ExpositionParser"/> found in one body: its samples and families, in reused pooled arrays,
/// valid until the next parse into the same instance. One per scrape loop.
/// </summary>
internal sealed class ParsedExposition : IDisposable
{
    private ParsedSample[] _samples = ArrayPool<ParsedSample>.Shared.Rent(256);
    private int _sampleCount;
    private readonly List<ParsedFamily> _families = [];

    public Span<ParsedSample> Samples => _samples.AsSpan(0, _sampleCount);
    public int SampleCount => _sampleCount;
    public List<ParsedFamily> Families => _families;

    /// <summary>The type of samples no TYPE line covers: untyped (text format) or unknown (OpenMetrics).</summary>
    public MetricType UntypedAs { get; private set; }

    public void Reset(ExpositionFormat format = ExpositionFormat.PrometheusText)
    {
        UntypedAs = format == ExpositionFormat.OpenMetrics ? MetricType.Unknown : MetricType.Untyped;
        _sampleCount = 0;
        _families.Clear();
    }

    public ref ParsedSample Add()
    {
        if (_sampleCount == _samples.Length)
        {
            var larger = ArrayPool<ParsedSample>.Shared.Rent(_samples.Length * 2);
            _samples.AsSpan(0, _sampleCount).CopyTo(larger);
            ArrayPool<ParsedSample>.Shared.Return(_samples);
            _samples = larger;
        }
        return ref _samples[_sampleCount++];
    }

    public void Dispose()
    {
        ArrayPool<ParsedSample>.Shared.Return(_samples);
        _samples = [];
        _sampleCount = 0;
    }
}

/// <summary>Why a body was refused; the whole scrape fails with it (as Prometheus and the OpenMetrics specification require).</summary>
internal sealed record ExpositionError(int Line, string Reason, bool SampleLimit = false)
{
    public override string ToString() => Line > 0 ? $"line {Line}: {Reason}" : Reason;
}
