using Pipeline.Testing;
using System.Diagnostics;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Kafka.Consuming;
using Xunit.Abstractions;

namespace Pipeline.UnitTests.TopK;

/// <summary>
/// Acceptance: on a Zipf-distributed stream of 1,000,000 events over 100,000 distinct keys the reported
/// top-10 equals the exact top-10, and every reported count is within its stated error bound. The stream
/// goes through the aggregator as envelopes (scan, extract, sketch), seeded so every run sees the same one.
/// </summary>
public sealed class ZipfAccuracyTests(ITestOutputHelper output)
{
    private const int Events = 1_000_000;
    private const int Keys = 100_000;

    [Fact]
    public void OnAMillionZipfEventsOverHundredThousandKeysTheTopTenIsExactAndEveryCountWithinItsBound() =>
        Run(partitions: 1, seed: 20250314);

    [Fact]
    public void SplitOverFourPartitionsTheMergedTopTenIsStillExactAndWithinItsBounds() =>
        Run(partitions: 4, seed: 4242);

    [Fact]
    public void TheSeededStreamPutsTheSameHostsInTheSamePartitionsInEveryProcess()
    {
        // string.GetHashCode is randomised per process, so a stream partitioned by it is not the seeded stream it
        // claims to be; these figures were taken once and must hold in every run.
        var zipf = new Zipf(Keys, exponent: 1.0, seed: 4242);
        var perPartition = new int[4];
        for (var i = 0; i < 10_000; i++) perPartition[PartitionOf($"host-{(zipf.Next() * 7919L) % Keys:D6}", 4)]++;
        Assert.Equal(PinnedPartitionCounts, perPartition);
    }

    private static readonly int[] PinnedPartitionCounts = [2374, 2284, 3095, 2247];

    /// <summary>FNV-1a of the name: the same partition for the same host in every process.</summary>
    private static int PartitionOf(string name, int partitions)
    {
        var hash = 2166136261u;
        foreach (var c in name) hash = (hash ^ c) * 16777619u;
        return (int)(hash % (uint)partitions);
    }

    private void Run(int partitions, int seed)
    {
        var aggregator = TopKTestData.Aggregator("host", capacity: 1000);
        var zipf = new Zipf(Keys, exponent: 1.0, seed);
        var envelopes = new FastEnvelopes();
        var exact = new long[Keys];
        var names = Enumerable.Range(0, Keys).Select(r => $"host-{(r * 7919L) % Keys:D6}").ToArray();
        var at = TopKTestData.Base.AddSeconds(5);
        var now = at.AddSeconds(1);
        var stats = new ApplyStats(2);
        var offsets = new long[partitions];
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < Events; i++)
        {
            var rank = zipf.Next();
            exact[rank]++;
            // The real producer keys by host, so one host always lands in one partition.
            var partition = PartitionOf(names[rank], partitions);
            Assert.True(aggregator.Apply(new PartitionKey("syslog", partition), offsets[partition]++, envelopes.Write(at, names[rank], "m"), now, stats));
        }
        output.WriteLine($"{Events:N0} events through the aggregator in {clock.Elapsed.TotalSeconds:F2} s ({partitions} partition(s))");

        var merged = aggregator.MergeInMemory("host", TopKTestData.Minute, at);
        var truth = Enumerable.Range(0, Keys).ToDictionary(r => names[r], r => exact[r]);
        var exactTop = truth.OrderByDescending(x => x.Value).ThenBy(x => x.Key, StringComparer.Ordinal).Take(10).Select(x => x.Key).ToList();
        var reportedTop = merged.Entries.Take(10).Select(e => e.Key).ToList();

        output.WriteLine(string.Join("\n", merged.Entries.Take(11).Select(e => $"{e.Key} count={e.Count} error={e.Error} exact={truth[e.Key]}")));
        Assert.Equal(exactTop, reportedTop);
        Assert.All(merged.Entries, e => Assert.InRange(truth[e.Key], e.LowerBound, e.Count));
        Assert.Equal(Events, merged.Total);
        Assert.True(truth.Where(x => !merged.Entries.Any(e => e.Key == x.Key)).All(x => x.Value <= merged.UntrackedMax));
        Assert.Equal(Events, stats.Counted[0]);
    }
}
