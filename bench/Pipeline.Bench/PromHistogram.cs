using System.Globalization;

namespace Pipeline.Bench;

/// <summary>
/// One histogram series read from a Prometheus text scrape: cumulative counts per upper bound. Quantiles are
/// interpolated inside a bucket as Prometheus's <c>histogram_quantile</c> does; the share at or below a bucket
/// bound is exact.
/// </summary>
internal sealed class PromHistogram(IReadOnlyList<(double Le, double Count)> buckets)
{
    public IReadOnlyList<(double Le, double Count)> Buckets { get; } = buckets;

    public double Count => Buckets.Count == 0 ? 0 : Buckets[^1].Count;

    /// <summary>The series of <paramref name="name"/> (a histogram's base name) whose labels include <paramref name="match"/>, summed over the rest.</summary>
    public static PromHistogram Parse(string text, string name, params (string Label, string Value)[] match)
    {
        var sums = new SortedDictionary<double, double>();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith(name + "_bucket{", StringComparison.Ordinal)) continue;
            var close = line.LastIndexOf('}');
            var labels = Labels(line[(name.Length + 8)..close]);
            if (!match.All(m => labels.TryGetValue(m.Label, out var v) && v == m.Value)) continue;
            var le = labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(labels["le"], CultureInfo.InvariantCulture);
            sums[le] = sums.GetValueOrDefault(le) + double.Parse(line[(close + 2)..], CultureInfo.InvariantCulture);
        }
        return new PromHistogram(sums.Select(s => (s.Key, s.Value)).ToList());
    }

    /// <summary>What was recorded between an earlier scrape and this one.</summary>
    public PromHistogram Since(PromHistogram earlier) =>
        new(Buckets.Select(b => (b.Le, b.Count - earlier.Buckets.FirstOrDefault(e => e.Le == b.Le).Count)).ToList());

    /// <summary>The q-quantile (0..1), interpolated linearly within its bucket; NaN when empty.</summary>
    public double Quantile(double q)
    {
        if (Count == 0) return double.NaN;
        var rank = q * Count;
        double lower = 0, below = 0;
        foreach (var (le, count) in Buckets)
        {
            if (count >= rank)
            {
                if (double.IsPositiveInfinity(le)) return lower;
                return lower + (le - lower) * (count - below == 0 ? 0 : (rank - below) / (count - below));
            }
            (lower, below) = (le, count);
        }
        return lower;
    }

    /// <summary>The share of measurements at or below <paramref name="bound"/>, which must be a bucket bound.</summary>
    public double ShareAtOrBelow(double bound) =>
        Count == 0 ? double.NaN : Buckets.First(b => b.Le >= bound).Count / Count;

    /// <summary>The upper bound of the highest bucket that holds a measurement: the maximum is at most this.</summary>
    public double MaxBound()
    {
        for (var i = Buckets.Count - 1; i > 0; i--)
            if (Buckets[i].Count > Buckets[i - 1].Count) return Buckets[i].Le;
        return Buckets.Count > 0 && Buckets[0].Count > 0 ? Buckets[0].Le : double.NaN;
    }

    private static Dictionary<string, string> Labels(string text)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in text.Split("\",", StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq > 0) labels[pair[..eq]] = pair[(eq + 2)..].TrimEnd('"');
        }
        return labels;
    }
}
