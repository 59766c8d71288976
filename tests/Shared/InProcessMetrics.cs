using System.Diagnostics.Metrics;

namespace Pipeline.Testing;

/// <summary>
/// The <see cref="IMeterFactory"/> for components run inside a test or benchmark process, which reads back what
/// their instruments say, as an exporter would: observable instruments are read at each call, histograms are
/// added up from the moment this factory was made. Meters of other factories are not seen. One source file,
/// linked into the unit tests, the integration tests and the benchmarks.
/// </summary>
internal sealed class InProcessMetrics : IMeterFactory
{
    private readonly MeterListener _listener = new();
    private readonly List<Meter> _meters = [];
    private readonly Dictionary<(string Name, string Key), Series> _observed = [];
    private readonly Dictionary<(string Name, string Key), Series> _recorded = [];
    private readonly Lock _lock = new();

    public InProcessMetrics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == this) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Measured(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Measured(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Measured(i, v, tags));
        _listener.Start();
    }

    public Meter Create(MeterOptions options)
    {
        var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
        lock (_lock) _meters.Add(meter);
        return meter;
    }

    /// <summary>
    /// The sum over every series of <paramref name="name"/> whose labels include <paramref name="match"/>: the
    /// current value of an observable counter or gauge, the number of measurements of a histogram.
    /// </summary>
    public double Sum(string name, params (string Label, string Value)[] match) =>
        Matching(name, match).Sum(s => s.IsHistogram ? s.Count : s.Value);

    /// <summary>The sum of the values recorded by a histogram's matching series (with <see cref="Sum"/>, the mean).</summary>
    public double HistogramTotal(string name, params (string Label, string Value)[] match) =>
        Matching(name, match).Where(s => s.IsHistogram).Sum(s => s.Value);

    /// <summary>Every label set <paramref name="name"/> has now.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> LabelSets(string name) =>
        Matching(name, []).Select(s => s.Labels).ToList();

    public void Dispose()
    {
        _listener.Dispose();
        lock (_lock) foreach (var meter in _meters) meter.Dispose();
    }

    private List<Series> Matching(string name, (string Label, string Value)[] match)
    {
        lock (_lock)
        {
            _observed.Clear();
            _listener.RecordObservableInstruments();
            return _observed.Values.Concat(_recorded.Values)
                .Where(s => s.Name == name && match.All(m => s.Labels.TryGetValue(m.Label, out var v) && v == m.Value))
                .ToList();
        }
    }

    private void Measured<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags) where T : struct
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var tag in tags) labels[tag.Key] = tag.Value?.ToString() ?? "";
        var key = string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}"));
        var number = Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture);
        lock (_lock)
        {
            if (instrument.IsObservable)
            {
                _observed[(instrument.Name, key)] = new Series(instrument.Name, labels, number, 0, false);
                return;
            }
            var histogram = instrument.GetType().GetGenericTypeDefinition() == typeof(Histogram<>);
            var seen = _recorded.GetValueOrDefault((instrument.Name, key)) ?? new Series(instrument.Name, labels, 0, 0, histogram);
            _recorded[(instrument.Name, key)] = seen with { Value = seen.Value + number, Count = seen.Count + 1 };
        }
    }

    private sealed record Series(string Name, IReadOnlyDictionary<string, string> Labels, double Value, long Count, bool IsHistogram);
}
