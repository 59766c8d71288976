namespace Pipeline.Testing;

/// <summary>
/// Zipf-distributed ranks (P(rank r) ∝ 1 / r^s), seeded: the same seed gives the same stream. One source
/// file, linked into the unit tests, the integration tests and the benchmarks.
/// </summary>
internal sealed class Zipf
{
    private readonly double[] _cumulative;
    private readonly Random _random;

    public Zipf(int keys, double exponent, int seed)
    {
        _random = new Random(seed);
        _cumulative = new double[keys];
        var sum = 0.0;
        for (var r = 0; r < keys; r++)
        {
            sum += 1.0 / Math.Pow(r + 1, exponent);
            _cumulative[r] = sum;
        }
        for (var r = 0; r < keys; r++) _cumulative[r] /= sum;
    }

    /// <summary>A rank from 0 (the most frequent) to keys - 1.</summary>
    public int Next()
    {
        var i = Array.BinarySearch(_cumulative, _random.NextDouble());
        return Math.Min(i < 0 ? ~i : i, _cumulative.Length - 1);
    }
}
