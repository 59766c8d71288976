using OpenTelemetry;
using OpenTelemetry.Metrics;
using Pipeline.Core.Metrics;
using Pipeline.Kafka.Consuming;
using Pipeline.Testing;

namespace Pipeline.UnitTests.Kafka;

public sealed class ConsumerMetricsTests
{
    private static readonly DateTimeOffset Commit = DateTimeOffset.Parse("2026-12-01T10:00:10Z", System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void FreshnessIsTheTimeFromTheEdgesReceiptToTheEndOfTheWriteForEveryRecord()
    {
        using var meters = new InProcessMetrics();
        var metrics = new ConsumerMetrics(meters, "noc_team", () => { });
        // The record timestamp is the edge's received_at: 0.5 s, 2 s and 9 s before the commit.
        var batch = Batch(Commit.AddMilliseconds(-500), Commit.AddSeconds(-2), Commit.AddSeconds(-9));

        metrics.WriteSucceeded(batch, TimeSpan.FromMilliseconds(40), Commit);

        Assert.Equal(3, meters.Sum("consumer_freshness_seconds", ("group", "noc_team")));
        Assert.Equal(11.5, meters.HistogramTotal("consumer_freshness_seconds", ("group", "noc_team")), 3);
        Assert.Equal(1, meters.Sum("consumer_write_duration_seconds", ("group", "noc_team")));
        Assert.Equal(0.04, meters.HistogramTotal("consumer_write_duration_seconds"), 3);
        Assert.Equal(3, meters.HistogramTotal("consumer_write_batch_records"));
    }

    [Fact]
    public void EventAgeCountsOnlyTheRecordsWhoseSinkNotedTheirOwnTime()
    {
        using var meters = new InProcessMetrics();
        var metrics = new ConsumerMetrics(meters, "sec_team", () => { });
        var batch = Batch(Commit.AddSeconds(-1), Commit.AddSeconds(-1), Commit.AddSeconds(-1));
        batch.NoteEventTime(0, Commit.AddSeconds(-30));
        // A sender whose clock runs ahead: counted as fresh, not as a negative age.
        batch.NoteEventTime(2, Commit.AddSeconds(5));

        metrics.WriteSucceeded(batch, TimeSpan.FromMilliseconds(10), Commit);

        Assert.Equal(2, meters.Sum("consumer_event_age_seconds", ("group", "sec_team")));
        Assert.Equal(30, meters.HistogramTotal("consumer_event_age_seconds"), 3);
        Assert.Equal(3, meters.Sum("consumer_freshness_seconds"));
    }

    [Fact]
    public void TheHistogramsHaveSecondsScaleBucketsWhenExportedByOpenTelemetry()
    {
        using var meters = new InProcessMetrics();
        var exported = new List<MetricSnapshot>();
        var group = "g" + Guid.NewGuid().ToString("N")[..8];
        using var provider = Sdk.CreateMeterProviderBuilder().AddMeter(ConsumerMetrics.MeterName).AddInMemoryExporter(exported).Build();
        var metrics = new ConsumerMetrics(meters, group, () => { });
        metrics.WriteSucceeded(Batch(Commit.AddMilliseconds(-120)), TimeSpan.FromMilliseconds(3), Commit);

        provider.ForceFlush();

        var freshness = exported.Last(m => m.Name == "consumer_freshness_seconds");
        Assert.Equal("s", freshness.Unit);
        var bounds = new List<double>();
        foreach (var bucket in freshness.MetricPoints.Single(p => IsGroup(p, group)).GetHistogramBuckets()) bounds.Add(bucket.ExplicitBound);
        Assert.Equal([.. Buckets.Freshness, double.PositiveInfinity], bounds);
    }

    private static bool IsGroup(MetricPoint point, string group)
    {
        foreach (var tag in point.Tags)
            if (tag.Key == "group" && Equals(tag.Value, group)) return true;
        return false;
    }

    private static SinkBatch Batch(params DateTimeOffset[] receivedAt) =>
        new(receivedAt.Select((at, i) => new ConsumedRecord("syslog", 0, i, null, [], at)).ToList(), new Dictionary<PartitionKey, long>());
}
