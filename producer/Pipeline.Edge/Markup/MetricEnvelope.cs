using System.Text.Json;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Sources.Scrape;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.Edge.Markup;

/// <summary>One scraped sample as the envelope writer reads it: spans of the scraped body, and numbers.</summary>
internal ref struct MetricSampleView
{
    /// <summary>The name as written (<see cref="NameEscaped"/> when it holds escapes: a quoted UTF-8 name).</summary>
    public ReadOnlySpan<byte> Name;
    public bool NameEscaped;
    /// <summary>What is between the braces, as written (see <see cref="LabelReader"/>); empty for none.</summary>
    public ReadOnlySpan<byte> Labels;
    public MetricType Type;
    /// <summary>The family name when it differs from the sample's (<c>x</c> of <c>x_bucket</c>); empty otherwise.</summary>
    public ReadOnlySpan<byte> Family;
    public ReadOnlySpan<byte> Unit;
    public double Value;
    public bool HasTimestamp;
    public long TimestampMs;
    /// <summary>Increase since the previous scrape; NaN for none.</summary>
    public double Delta;
}

internal sealed partial class EnvelopeWriter
{
    private const int ExportedPrefixLength = 9;
    private byte[] _scratch = new byte[256];

    /// <summary>
    /// An envelope for one scraped sample: <c>metric</c> {name, type, family, unit, labels, value, timestamp,
    /// delta}. The sample's labels come first, unescaped; then the target's (<c>job</c>, <c>instance</c>, …). A
    /// sample label named like a target label is kept as <c>exported_&lt;name&gt;</c>, as Prometheus does.
    /// Labels with an empty value are left out (in the format, an empty label is no label).
    /// </summary>
    public ReadOnlySpan<byte> WriteMetricSample(scoped in EnvelopeHeader header, scoped in MetricSampleView sample, ScrapeTarget target)
    {
        Begin(header, default);
        var w = _json;
        w.WriteStartObject(EnvelopeJson.Metric);
        w.WritePropertyName(EnvelopeJson.OfMetric.Name);
        w.WriteStringValue(Unescaped(sample.Name, sample.NameEscaped, 0));
        w.WriteString(EnvelopeJson.OfMetric.Type, MetricTypeNames.Json(sample.Type));
        if (!sample.Family.IsEmpty) w.WriteString(EnvelopeJson.OfMetric.Family, Unescaped(sample.Family, sample.Family.Contains((byte)'\\'), 0));
        if (!sample.Unit.IsEmpty) w.WriteString(EnvelopeJson.OfMetric.Unit, sample.Unit);
        w.WriteStartObject(EnvelopeJson.OfMetric.Labels);
        var labels = new LabelReader(sample.Labels);
        while (labels.Next(out var name, out var nameEscaped, out var value, out var valueEscaped))
        {
            if (value.IsEmpty) continue;
            Reserve(name.Length + value.Length + ExportedPrefixLength);
            var text = Unescaped(value, valueEscaped, 0);
            w.WriteString(LabelName(name, nameEscaped, target, text.Length), text);
        }
        foreach (var (name, value) in target.LabelsJson) w.WriteString(name, value);
        w.WriteEndObject();
        WriteNumber(EnvelopeJson.OfMetric.Value, sample.Value);
        if (sample.HasTimestamp) w.WriteString(EnvelopeJson.OfMetric.Timestamp, DateTimeOffset.FromUnixTimeMilliseconds(sample.TimestampMs));
        if (!double.IsNaN(sample.Delta)) WriteNumber(EnvelopeJson.OfMetric.Delta, sample.Delta);
        w.WriteEndObject();
        return End(header);
    }

    /// <summary>A number; NaN and the infinities, which JSON has no numbers for, as the strings .NET reads back (<c>NaN</c>, <c>Infinity</c>, <c>-Infinity</c>).</summary>
    private void WriteNumber(JsonEncodedText name, double value)
    {
        if (double.IsFinite(value)) _json.WriteNumber(name, value);
        else _json.WriteString(name, double.IsNaN(value) ? Values.NaN : value > 0 ? Values.Infinity : Values.NegativeInfinity);
    }

    /// <summary>The label's name, renamed <c>exported_&lt;name&gt;</c> when the target sets a label of that name; written after <paramref name="at"/> in the scratch space.</summary>
    private ReadOnlySpan<byte> LabelName(ReadOnlySpan<byte> raw, bool escaped, ScrapeTarget target, int at)
    {
        var name = Unescaped(raw, escaped, at + ExportedPrefixLength);
        foreach (var taken in target.LabelNames)
        {
            if (!name.SequenceEqual(taken)) continue;
            name.CopyTo(_scratch.AsSpan(at + ExportedPrefixLength));
            "exported_"u8.CopyTo(_scratch.AsSpan(at));
            return _scratch.AsSpan(at, ExportedPrefixLength + name.Length);
        }
        return name;
    }

    /// <summary>The text itself, or its unescaped copy in the scratch space from <paramref name="at"/>.</summary>
    private ReadOnlySpan<byte> Unescaped(ReadOnlySpan<byte> raw, bool escaped, int at)
    {
        if (!escaped) return raw;
        Reserve(at + raw.Length);
        var length = LabelReader.Unescape(raw, _scratch.AsSpan(at));
        return _scratch.AsSpan(at, length);
    }

    private void Reserve(int length)
    {
        if (_scratch.Length < length) _scratch = new byte[Math.Max(length, _scratch.Length * 2)];
    }
}
