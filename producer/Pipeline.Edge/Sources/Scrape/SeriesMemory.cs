using System.IO.Hashing;
using Pipeline.Edge.Sources.Scrape.Exposition;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// One target's running totals from its previous scrape, so each cumulative sample (a counter, a histogram's
/// buckets, count and sum) can carry its increase since then (<c>metric.delta</c>): what ranks series "by
/// rate" downstream without each consumer keeping state. A value below the previous one is a reset, and the
/// increase is the value itself (as Prometheus's <c>rate</c> reads it). A series seen for the first time has
/// no increase; after failed scrapes the increase spans the gap. Series are known by a 64-bit hash of their name and labels as written; the map holds only
/// the series of the last scrape. Used by one scrape loop at a time.
/// </summary>
internal sealed class SeriesMemory
{
    private Dictionary<ulong, double> _previous = [];
    private Dictionary<ulong, double> _current = [];

    /// <summary>Sets <see cref="ParsedSample.Delta"/> of every sample of a scrape, and remembers its values for the next.</summary>
    public void Apply(ReadOnlySpan<byte> body, Span<ParsedSample> samples)
    {
        _current.Clear();
        _current.EnsureCapacity(samples.Length);
        foreach (ref var sample in samples)
        {
            sample.Delta = double.NaN;
            if (!sample.Cumulative || double.IsNaN(sample.Value)) continue;
            var key = XxHash3.HashToUInt64(sample.Series.Of(body));
            _current[key] = sample.Value;
            if (_previous.TryGetValue(key, out var before))
                sample.Delta = sample.Value >= before ? sample.Value - before : sample.Value;
        }
        (_previous, _current) = (_current, _previous);
    }
}
