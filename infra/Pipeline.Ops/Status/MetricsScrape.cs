using System.Globalization;

namespace Pipeline.Ops.Status;

/// <summary>One series of a scrape: its name, its labels (in any order) and its value.</summary>
internal sealed record MetricSeries(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string? Label(string name) => Labels.TryGetValue(name, out var value) ? value : null;

    /// <summary>True when every pair of <paramref name="match"/> is among the labels; labels not named are ignored.</summary>
    public bool Has(ReadOnlySpan<(string Label, string Value)> match)
    {
        foreach (var (label, value) in match)
            if (!Labels.TryGetValue(label, out var actual) || actual != value) return false;
        return true;
    }
}

/// <summary>
/// A scrape of a <c>/metrics</c> endpoint in the Prometheus text format (0.0.4) or OpenMetrics text. Only
/// samples are kept: <c># HELP</c>, <c># TYPE</c>, <c># UNIT</c>, <c># EOF</c>, timestamps and exemplars are
/// skipped, labels may come in any order and with labels nobody asked for (an exporter's <c>otel_scope_*</c>).
/// Written here because no maintained .NET package parses the format (the Prometheus client libraries only
/// write it); a line that does not parse is skipped, so one odd series never hides the others.
/// </summary>
internal sealed class MetricsScrape
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = new Dictionary<string, string>();
    private readonly Dictionary<string, List<MetricSeries>> _byName = new(StringComparer.Ordinal);

    public static MetricsScrape Empty { get; } = new();

    public int Count { get; private set; }

    public static MetricsScrape Parse(string text)
    {
        var scrape = new MetricsScrape();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.AsSpan().Trim();
            if (line.IsEmpty || line[0] == '#') continue;
            if (TryParse(line, out var series)) scrape.Add(series);
        }
        return scrape;
    }

    /// <summary>Every series of <paramref name="name"/>.</summary>
    public IReadOnlyList<MetricSeries> Series(string name) => _byName.TryGetValue(name, out var list) ? list : [];

    /// <summary>True when the scrape has any series of <paramref name="name"/>.</summary>
    public bool Has(string name) => _byName.ContainsKey(name);

    /// <summary>Sum of <paramref name="name"/> over the series whose labels include <paramref name="match"/>; null when none does.</summary>
    public double? Sum(string name, params (string Label, string Value)[] match)
    {
        double? sum = null;
        foreach (var series in Series(name))
            if (series.Has(match) && !double.IsNaN(series.Value)) sum = (sum ?? 0) + series.Value;
        return sum;
    }

    /// <summary>Largest value of <paramref name="name"/> over the series whose labels include <paramref name="match"/>; null when none does.</summary>
    public double? Max(string name, params (string Label, string Value)[] match)
    {
        double? max = null;
        foreach (var series in Series(name))
            if (series.Has(match) && !double.IsNaN(series.Value)) max = Math.Max(max ?? double.MinValue, series.Value);
        return max;
    }

    /// <summary>The distinct values of <paramref name="label"/> over the series of <paramref name="name"/>.</summary>
    public IReadOnlyList<string> LabelValues(string name, string label) =>
        Series(name).Select(s => s.Label(label)).OfType<string>().Distinct(StringComparer.Ordinal).ToList();

    /// <summary>Names of the series that end with <paramref name="suffix"/>.</summary>
    public IEnumerable<string> NamesEndingWith(string suffix) => _byName.Keys.Where(k => k.EndsWith(suffix, StringComparison.Ordinal));

    private void Add(MetricSeries series)
    {
        if (!_byName.TryGetValue(series.Name, out var list)) _byName[series.Name] = list = [];
        list.Add(series);
        Count++;
    }

    private static bool TryParse(ReadOnlySpan<char> line, out MetricSeries series)
    {
        series = null!;
        var nameEnd = 0;
        while (nameEnd < line.Length && line[nameEnd] is not ('{' or ' ' or '\t')) nameEnd++;
        if (nameEnd == 0) return false;
        var name = line[..nameEnd].ToString();
        var rest = line[nameEnd..];
        var labels = NoLabels;
        if (!rest.IsEmpty && rest[0] == '{')
        {
            if (!TryParseLabels(rest, out var parsed, out var consumed)) return false;
            labels = parsed;
            rest = rest[consumed..];
        }
        rest = rest.TrimStart();
        // The value ends at the first blank: a timestamp or an OpenMetrics exemplar (" # {...} 1.0") may follow.
        var valueEnd = rest.IndexOfAny(' ', '\t');
        var valueText = valueEnd < 0 ? rest : rest[..valueEnd];
        if (!TryParseValue(valueText, out var value)) return false;
        series = new MetricSeries(name, labels, value);
        return true;
    }

    /// <summary>Parses <c>{a="x",b="y\"z"}</c>; <paramref name="consumed"/> counts the closing brace.</summary>
    private static bool TryParseLabels(ReadOnlySpan<char> text, out Dictionary<string, string> labels, out int consumed)
    {
        labels = new Dictionary<string, string>(StringComparer.Ordinal);
        consumed = 0;
        var i = 1;
        var value = new System.Text.StringBuilder();
        while (true)
        {
            while (i < text.Length && text[i] is ' ' or ',') i++;
            if (i >= text.Length) return false;
            if (text[i] == '}')
            {
                consumed = i + 1;
                return true;
            }
            var eq = text[i..].IndexOf('=');
            if (eq <= 0) return false;
            var key = text.Slice(i, eq).Trim().ToString();
            i += eq + 1;
            while (i < text.Length && text[i] == ' ') i++;
            if (i >= text.Length || text[i] != '"') return false;
            i++;
            value.Clear();
            while (true)
            {
                if (i >= text.Length) return false;
                var c = text[i++];
                if (c == '"') break;
                if (c == '\\' && i < text.Length)
                {
                    var escaped = text[i++];
                    value.Append(escaped switch { 'n' => '\n', _ => escaped });
                }
                else value.Append(c);
            }
            labels[key] = value.ToString();
        }
    }

    private static bool TryParseValue(ReadOnlySpan<char> text, out double value)
    {
        switch (text)
        {
            case "+Inf" or "Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case "NaN":
                value = double.NaN;
                return true;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }
}
