using Pipeline.Ops.Status;

namespace Pipeline.UnitTests.Ops.Status;

public sealed class HistogramWindowTests
{
    private static MetricsScrape Histogram(params (string Le, double Count)[] buckets) =>
        MetricsScrape.Parse(string.Join('\n', buckets.Select(b => $"consumer_freshness_seconds_bucket{{group=\"noc_team\",le=\"{b.Le}\"}} {b.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)}")));

    [Fact]
    public void QuantilesComeFromWhatWasObservedBetweenTheTwoScrapesOnly()
    {
        // Before: 1,000 fast observations. In between: 100 more, 50 under 0.1 s, 40 up to 0.5 s, 10 up to 1 s.
        var before = Histogram(("0.1", 1000), ("0.5", 1000), ("1", 1000), ("+Inf", 1000));
        var after = Histogram(("0.1", 1050), ("0.5", 1090), ("1", 1100), ("+Inf", 1100));

        Assert.Equal(0.1, HistogramWindow.Quantile(before, after, "consumer_freshness_seconds", 0.5, ("group", "noc_team"))!.Value, 6);
        // Rank 99 lies in (0.5, 1]: 9 of that bucket's 10 observations in, interpolated linearly.
        Assert.Equal(0.5 + 0.5 * 9 / 10, HistogramWindow.Quantile(before, after, "consumer_freshness_seconds", 0.99, ("group", "noc_team"))!.Value, 6);
    }

    [Fact]
    public void NothingObservedInBetweenIsUnknownNotZero()
    {
        var same = Histogram(("0.1", 5), ("+Inf", 5));
        Assert.Null(HistogramWindow.Quantile(same, same, "consumer_freshness_seconds", 0.5, ("group", "noc_team")));
        Assert.Null(HistogramWindow.Quantile(null, same, "consumer_freshness_seconds", 0.5, ("group", "other_team")));
    }

    [Fact]
    public void ARankPastTheLastFiniteBoundIsThatBound()
    {
        var after = Histogram(("0.1", 0), ("2.5", 1), ("+Inf", 10));
        Assert.Equal(2.5, HistogramWindow.Quantile(null, after, "consumer_freshness_seconds", 0.99, ("group", "noc_team")));
    }

    [Fact]
    public void AFreshnessHistogramIsFoundByItsNameAndGroup()
    {
        var scrape = Histogram(("+Inf", 1));
        Assert.Equal("consumer_freshness_seconds", HistogramWindow.Find(scrape, "freshness", ("group", "noc_team")));
        Assert.Null(HistogramWindow.Find(scrape, "freshness", ("group", "sec_team")));
    }
}
