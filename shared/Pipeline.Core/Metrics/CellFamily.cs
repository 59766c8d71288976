using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Pipeline.Core.Metrics;

/// <summary>
/// The series of one observable instrument. A series is either a cell, made on first use and kept, so a hot
/// path resolves its cell once and then only adds to it; or a function read at collection, for figures kept
/// elsewhere (a queue's length, the kernel's drop counter). The instrument reads every series when metrics are collected.
/// </summary>
public abstract class CellFamily<TCell, TValue> where TCell : class, new() where TValue : struct
{
    private readonly ConcurrentDictionary<string, Series> _series = new(StringComparer.Ordinal);
    private readonly Func<TCell, TValue> _readCell;
    private readonly Action? _refresh;

    private protected CellFamily(Func<TCell, TValue> readCell, Action? refresh)
    {
        _readCell = readCell;
        _refresh = refresh;
    }

    /// <summary>The cell of this label set (label names and values in a fixed order).</summary>
    public TCell For(params (string Name, string Value)[] labels) =>
        _series.GetOrAdd(Key(labels), static (_, l) => new Series(Tags(l), new TCell(), null), labels).Cell!;

    /// <summary>A series whose value <paramref name="read"/> gives at each collection (replacing one of the same labels).</summary>
    public void Track(Func<TValue> read, params (string Name, string Value)[] labels) =>
        _series[Key(labels)] = new Series(Tags(labels), null, read);

    /// <summary>Forgets every series (e.g. per-partition gauges after a rebalance).</summary>
    public void Clear() => _series.Clear();

    private protected IEnumerable<Measurement<TValue>> Observe()
    {
        _refresh?.Invoke();
        foreach (var series in _series.Values)
            yield return new Measurement<TValue>(series.Read is { } read ? read() : _readCell(series.Cell!), series.Tags);
    }

    private static string Key((string Name, string Value)[] labels) =>
        labels.Length == 0 ? "" : string.Join('\u001f', labels.Select(l => l.Name + '\u001e' + l.Value));

    private static KeyValuePair<string, object?>[] Tags((string Name, string Value)[] labels) =>
        labels.Select(l => new KeyValuePair<string, object?>(l.Name, l.Value)).ToArray();

    private sealed record Series(KeyValuePair<string, object?>[] Tags, TCell? Cell, Func<TValue>? Read);
}

/// <summary>
/// An observable counter whose series are <see cref="CounterCell"/>s (or functions). Its name is the
/// Prometheus name as exported (a counter's ends in <c>_total</c>, a unit's suffix such as <c>_bytes</c> is spelt
/// out), so the exporter adds nothing to it.
/// </summary>
public sealed class CounterFamily : CellFamily<CounterCell, long>
{
    public CounterFamily(Meter meter, string name, string description, string? unit = null)
        : base(static c => c.Count, null) =>
        meter.CreateObservableCounter(name, Observe, unit, description);
}

/// <summary>
/// An observable gauge whose series are <see cref="GaugeCell"/>s (or functions); <c>refresh</c>, when given,
/// runs before each collection to copy values in from elsewhere (e.g. lag read from the Kafka client).
/// </summary>
public sealed class GaugeFamily : CellFamily<GaugeCell, double>
{
    public GaugeFamily(Meter meter, string name, string description, string? unit = null, Action? refresh = null)
        : base(static g => g.Value, refresh) =>
        meter.CreateObservableGauge(name, Observe, unit, description);
}
