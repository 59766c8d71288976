using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Pipeline.Core.Metrics;

/// <summary>
/// A small Prometheus registry: counters and gauges with labels, rendered in the text exposition format
/// (version 0.0.4). prometheus-net is not available here, so this keeps to the few features the pipeline
/// uses. Hot paths resolve a labelled <see cref="Counter"/> once and keep it; incrementing is one
/// interlocked add.
/// </summary>
public sealed class MetricsRegistry
{
    private readonly ConcurrentDictionary<string, MetricFamily> _families = new(StringComparer.Ordinal);
    private readonly List<Action> _beforeScrape = [];

    /// <summary>A counter (monotonic) named <paramref name="name"/> with the given label values.</summary>
    public Counter Counter(string name, string help, params (string Name, string Value)[] labels) =>
        (Counter)Family(name, help, "counter").Child(labels, static () => new Counter());

    /// <summary>
    /// A counter whose value is copied in from elsewhere before each scrape (see <see cref="BeforeScrape"/>),
    /// for totals kept by a component that must read several of them consistently.
    /// </summary>
    public Gauge ObservedCounter(string name, string help, params (string Name, string Value)[] labels) =>
        (Gauge)Family(name, help, "counter").Child(labels, static () => new Gauge());

    /// <summary>A gauge (settable) named <paramref name="name"/> with the given label values.</summary>
    public Gauge Gauge(string name, string help, params (string Name, string Value)[] labels) =>
        (Gauge)Family(name, help, "gauge").Child(labels, static () => new Gauge());

    /// <summary>Removes every child of a gauge family (for per-partition gauges after a rebalance).</summary>
    public void ClearGauge(string name)
    {
        if (_families.TryGetValue(name, out var family)) family.Clear();
    }

    /// <summary>Removes one series (a thing that is gone, such as a scrape target taken out of configuration).</summary>
    public void Forget(string name, params (string Name, string Value)[] labels)
    {
        if (_families.TryGetValue(name, out var family)) family.Forget(labels);
    }

    /// <summary>Runs <paramref name="refresh"/> before every scrape (for gauges read from elsewhere).</summary>
    public void BeforeScrape(Action refresh)
    {
        lock (_beforeScrape) _beforeScrape.Add(refresh);
    }

    /// <summary>The whole registry in the Prometheus text format.</summary>
    public string Render()
    {
        Action[] refreshers;
        lock (_beforeScrape) refreshers = [.. _beforeScrape];
        foreach (var refresh in refreshers) refresh();

        var text = new StringBuilder(4096);
        foreach (var family in _families.Values.OrderBy(f => f.Name, StringComparer.Ordinal))
            family.Render(text);
        return text.ToString();
    }

    /// <summary>Current value of one series, or null; for tests and the loss-ledger checks.</summary>
    public double? Read(string name, params (string Name, string Value)[] labels) =>
        _families.TryGetValue(name, out var family) ? family.Read(labels) : null;

    /// <summary>Sum over every series of a family whose labels include <paramref name="match"/>.</summary>
    public double Sum(string name, params (string Name, string Value)[] match) =>
        _families.TryGetValue(name, out var family) ? family.Sum(match) : 0;

    private MetricFamily Family(string name, string help, string type)
    {
        var family = _families.GetOrAdd(name, static (n, a) => new MetricFamily(n, a.help, a.type), (help, type));
        if (family.Type != type)
            throw new InvalidOperationException($"metric {name} is a {family.Type}, not a {type}");
        return family;
    }

    private sealed class MetricFamily(string name, string help, string type)
    {
        private readonly ConcurrentDictionary<string, (string Labels, Metric Metric)> _children = new(StringComparer.Ordinal);

        public string Name { get; } = name;
        public string Type { get; } = type;

        public Metric Child((string Name, string Value)[] labels, Func<Metric> create)
        {
            var key = LabelText(labels);
            return _children.GetOrAdd(key, static (k, c) => (k, c()), create).Metric;
        }

        public void Clear() => _children.Clear();

        public void Forget((string Name, string Value)[] labels) => _children.TryRemove(LabelText(labels), out _);

        public double? Read((string Name, string Value)[] labels) =>
            _children.TryGetValue(LabelText(labels), out var child) ? child.Metric.Value : null;

        public double Sum((string Name, string Value)[] match)
        {
            var parts = match.Select(l => $"{l.Name}=\"{Escape(l.Value)}\"").ToArray();
            return _children.Values.Where(c => parts.All(p => c.Labels.Contains(p, StringComparison.Ordinal)))
                .Sum(c => c.Metric.Value);
        }

        public void Render(StringBuilder text)
        {
            text.Append("# HELP ").Append(Name).Append(' ').Append(help).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(' ').Append(Type).Append('\n');
            foreach (var (labels, metric) in _children.Values.OrderBy(c => c.Labels, StringComparer.Ordinal))
            {
                text.Append(Name);
                if (labels.Length > 0) text.Append('{').Append(labels).Append('}');
                text.Append(' ').Append(Format(metric.Value)).Append('\n');
            }
        }

        private static string LabelText((string Name, string Value)[] labels) =>
            labels.Length == 0 ? "" : string.Join(",", labels.Select(l => $"{l.Name}=\"{Escape(l.Value)}\""));

        private static string Escape(string value) =>
            value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                .Replace("\n", "\\n", StringComparison.Ordinal);

        private static string Format(double value) =>
            double.IsPositiveInfinity(value) ? "+Inf"
            : double.IsNegativeInfinity(value) ? "-Inf"
            : double.IsNaN(value) ? "NaN"
            : value.ToString("R", CultureInfo.InvariantCulture);
    }
}

/// <summary>A metric's current value.</summary>
public abstract class Metric
{
    /// <summary>The value as rendered.</summary>
    public abstract double Value { get; }
}

/// <summary>A monotonic counter.</summary>
public sealed class Counter : Metric
{
    private long _value;

    public void Inc() => Interlocked.Increment(ref _value);
    public void Inc(long by) => Interlocked.Add(ref _value, by);
    public long Count => Interlocked.Read(ref _value);
    public override double Value => Count;
}

/// <summary>A value that goes up and down.</summary>
public sealed class Gauge : Metric
{
    private long _bits;

    public void Set(double value) => Interlocked.Exchange(ref _bits, BitConverter.DoubleToInt64Bits(value));
    public void Add(double delta)
    {
        long seen, updated;
        do
        {
            seen = Interlocked.Read(ref _bits);
            updated = BitConverter.DoubleToInt64Bits(BitConverter.Int64BitsToDouble(seen) + delta);
        } while (Interlocked.CompareExchange(ref _bits, updated, seen) != seen);
    }
    public override double Value => BitConverter.Int64BitsToDouble(Interlocked.Read(ref _bits));
}
