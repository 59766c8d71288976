using System.Globalization;

namespace Pipeline.Ops.Status;

/// <summary>
/// Quantiles of a Prometheus histogram over the time between two scrapes: the buckets' increase, then linear
/// interpolation inside the bucket that holds the rank — what PromQL's <c>histogram_quantile</c> over
/// <c>increase(..._bucket)</c> computes.
/// </summary>
internal static class HistogramWindow
{
    /// <summary>
    /// The <paramref name="quantile"/> (0 to 1) of <paramref name="family"/> (the name without <c>_bucket</c>)
    /// over the series whose labels include <paramref name="match"/>; null when nothing was observed in between.
    /// </summary>
    public static double? Quantile(MetricsScrape? before, MetricsScrape after, string family, double quantile, params (string Label, string Value)[] match)
    {
        var now = Buckets(after, family, match);
        if (now.Count == 0) return null;
        var then = before is null ? [] : Buckets(before, family, match);
        var increase = now.Select(b => (Le: b.Key, Count: Math.Max(0, b.Value - then.GetValueOrDefault(b.Key)))).OrderBy(b => b.Le).ToList();
        var total = increase[^1].Count;
        if (total <= 0) return null;
        var rank = quantile * total;
        double lower = 0, below = 0;
        foreach (var (le, count) in increase)
        {
            if (count >= rank)
            {
                // Past the last finite bound nothing is known but that bound.
                if (double.IsPositiveInfinity(le)) return lower;
                return count == below ? le : lower + (le - lower) * (rank - below) / (count - below);
            }
            lower = le;
            below = count;
        }
        return lower;
    }

    /// <summary>The name of a histogram in the scrape whose name contains <paramref name="word"/> and that has series with <paramref name="match"/>.</summary>
    public static string? Find(MetricsScrape scrape, string word, params (string Label, string Value)[] match) =>
        scrape.NamesEndingWith("_bucket")
            .Where(n => n.Contains(word, StringComparison.Ordinal) && scrape.Series(n).Any(s => s.Has(match)))
            .Order(StringComparer.Ordinal)
            .Select(n => n[..^"_bucket".Length])
            .FirstOrDefault();

    /// <summary>Cumulative count per upper bound, summed over the matching series (every member, every partition).</summary>
    private static Dictionary<double, double> Buckets(MetricsScrape scrape, string family, (string Label, string Value)[] match)
    {
        var buckets = new Dictionary<double, double>();
        foreach (var series in scrape.Series(family + "_bucket"))
        {
            if (!series.Has(match) || series.Label("le") is not { } le) continue;
            double bound;
            if (le is "+Inf" or "Inf") bound = double.PositiveInfinity;
            else if (!double.TryParse(le, NumberStyles.Float, CultureInfo.InvariantCulture, out bound)) continue;
            buckets[bound] = buckets.GetValueOrDefault(bound) + series.Value;
        }
        return buckets;
    }
}
