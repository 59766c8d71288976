using Pipeline.Testing;
using Pipeline.Consumers.TopK.Sketch;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.TopK;

public sealed class TopKAggregatorTests
{
    private static readonly PartitionKey P0 = new("syslog", 0);
    private static readonly PartitionKey P1 = new("syslog", 1);
    private static readonly DateTimeOffset T = TopKTestData.Base;

    [Fact]
    public void SampledEventsCountAsTheirSampleRate()
    {
        var aggregator = TopKTestData.Aggregator("host,severity");
        var stats = new ApplyStats(2);
        var offset = 0L;
        for (var i = 0; i < 10; i++) aggregator.Apply(P0, offset++, TopKTestData.Syslog(T.AddSeconds(i), host: "sampled", sampleRate: 4), T.AddMinutes(1), stats);
        for (var i = 0; i < 7; i++) aggregator.Apply(P0, offset++, TopKTestData.Syslog(T.AddSeconds(i), host: "full", sampleRate: 1), T.AddMinutes(1), stats);
        // A rate below 1 is not a valid sampling: the event stands for itself.
        aggregator.Apply(P0, offset++, TopKTestData.Syslog(T, host: "odd", sampleRate: 0), T.AddMinutes(1), stats);

        var minute = aggregator.MergeInMemory("host", TopKTestData.Minute, T);
        Assert.Equal([new SketchEntry("sampled", 40, 0), new SketchEntry("full", 7, 0), new SketchEntry("odd", 1, 0)], minute.Entries);
        Assert.Equal(48, minute.Total);
        Assert.Equal(48, aggregator.MergeInMemory("severity", TopKTestData.Hour, T).Entries.Single().Count);
        Assert.Equal([48L, 48L], stats.Counted);
    }

    [Fact]
    public void EveryDimensionGetsItsKeyFromTheEnvelope()
    {
        var aggregator = TopKTestData.Aggregator("host,app,severity,source_ip,sender_ip,template,tenant,kind,payload.http.status");
        var stats = new ApplyStats(2);
        aggregator.Apply(P0, 0, TopKTestData.Syslog(T, host: "fw-1", app: "kernel", severity: 4,
            message: "DROP IN=eth0 SRC=203.0.113.5 DST=10.0.0.1 LEN=60", tenant: "acme", senderIp: "192.0.2.1"), T, stats);
        aggregator.Apply(P0, 1, TopKTestData.HttpEvent(T, """{"http":{"status":503}}"""), T, stats);

        string Top(string d) => string.Join("|", aggregator.MergeInMemory(d, TopKTestData.Minute, T).Entries.Select(e => e.Key));
        Assert.Equal("fw-1", Top("host"));
        Assert.Equal("kernel", Top("app"));
        Assert.Equal("warning", Top("severity"));
        Assert.Equal("203.0.113.5", Top("source_ip"));
        Assert.Equal("192.0.2.1|198.51.100.7", Top("sender_ip"));
        Assert.Equal("DROP IN=<*> SRC=<ip> DST=<ip> LEN=<num>", Top("template"));
        Assert.Equal("acme", Top("tenant"));
        Assert.Equal("event|log", Top("kind"));
        Assert.Equal("503", Top("payload.http.status"));
    }

    [Fact]
    public void AMetricDimensionRanksTheSeriesOfOneCounterByTheirIncreaseAndTheMetricDimensionCountsSamplesByName()
    {
        var aggregator = TopKTestData.Aggregator("metric,metric.node_network_receive_bytes_total,host");
        var stats = new ApplyStats(2);
        var offset = 0L;
        void Sample(string name, string device, double? delta, int sampleRate = 1) => aggregator.Apply(P0, offset++,
            TopKTestData.Metric(T.AddSeconds(offset), name, new() { ["device"] = device, ["instance"] = "10.0.0.1:9100", ["job"] = "node" }, 1e9, delta, sampleRate),
            T.AddMinutes(1), stats);
        Sample("node_network_receive_bytes_total", "eth0", null); // first scrape: no increase known yet
        Sample("node_network_receive_bytes_total", "eth0", 1000);
        Sample("node_network_receive_bytes_total", "eth0", 3000.4);
        Sample("node_network_receive_bytes_total", "eth1", 500);
        Sample("node_network_receive_bytes_total", "eth1", 100, sampleRate: 2);
        Sample("node_network_receive_bytes_total", "lo", 0);
        Sample("node_network_transmit_bytes_total", "eth0", 1e6);

        var busiest = aggregator.MergeInMemory("metric.node_network_receive_bytes_total", TopKTestData.Minute, T);
        Assert.Equal([new SketchEntry("device=\"eth0\",instance=\"10.0.0.1:9100\",job=\"node\"", 4000, 0),
            new SketchEntry("device=\"eth1\",instance=\"10.0.0.1:9100\",job=\"node\"", 700, 0)], busiest.Entries);
        Assert.Equal(4700, busiest.Total);
        var byName = aggregator.MergeInMemory("metric", TopKTestData.Minute, T);
        Assert.Equal([new SketchEntry("node_network_receive_bytes_total", 7, 0), new SketchEntry("node_network_transmit_bytes_total", 1, 0)], byName.Entries);
        Assert.Empty(aggregator.MergeInMemory("host", TopKTestData.Minute, T).Entries);
        Assert.Equal([8L, 8L], stats.Counted);
    }

    [Fact]
    public void TheHourRollupCountsWhatItsMinutesCount()
    {
        var aggregator = TopKTestData.Aggregator("host");
        var stats = new ApplyStats(2);
        for (var i = 0; i < 300; i++)
            aggregator.Apply(P0, i, TopKTestData.Syslog(T.AddSeconds(i * 11), host: "h" + (i % 3)), T.AddHours(1), stats);
        var minutes = Enumerable.Range(0, 60).SelectMany(m => aggregator.MergeInMemory("host", TopKTestData.Minute, T.AddMinutes(m)).Entries)
            .GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Sum(e => e.Count));
        var hour = aggregator.MergeInMemory("host", TopKTestData.Hour, T).Entries.ToDictionary(e => e.Key, e => e.Count);
        Assert.Equal(minutes.OrderBy(x => x.Key), hour.OrderBy(x => x.Key));
        Assert.Equal(300, hour.Values.Sum());
    }

    [Fact]
    public void AWindowClosesOnceThePartitionsEventTimePassesItsEndPlusTheLateness()
    {
        var aggregator = TopKTestData.Aggregator("host", lateness: TimeSpan.FromSeconds(10), rollup: false);
        var stats = new ApplyStats(1);
        aggregator.Apply(P0, 0, TopKTestData.Syslog(T.AddSeconds(30)), T.AddMinutes(2), stats);
        aggregator.Apply(P0, 1, TopKTestData.Syslog(T.AddSeconds(69)), T.AddMinutes(2), stats);
        Assert.DoesNotContain(aggregator.TakeCheckpoint(T).Partials, p => p.Closed);

        aggregator.Apply(P0, 2, TopKTestData.Syslog(T.AddSeconds(70)), T.AddMinutes(2), stats);
        var closed = aggregator.TakeCheckpoint(T).Partials.Where(p => p.Closed).ToList();
        Assert.Equal(T, Assert.Single(closed).WindowStart);
        Assert.Equal(1, closed[0].Events);
    }

    [Fact]
    public void LateEventsAreCountedAsLateAndNotFoldedIntoAnotherWindow()
    {
        var aggregator = TopKTestData.Aggregator("host", lateness: TimeSpan.FromSeconds(10));
        var stats = new ApplyStats(2);
        aggregator.Apply(P0, 0, TopKTestData.Syslog(T.AddSeconds(5), host: "a"), T.AddMinutes(5), stats);
        aggregator.Apply(P0, 1, TopKTestData.Syslog(T.AddSeconds(75), host: "b"), T.AddMinutes(5), stats);  // closes [T, T+1m)
        aggregator.Apply(P0, 2, TopKTestData.Syslog(T.AddSeconds(20), host: "late", sampleRate: 3), T.AddMinutes(5), stats);

        var checkpoint = aggregator.TakeCheckpoint(T.AddMinutes(5));
        var late = Assert.Single(checkpoint.Late);
        Assert.Equal((60, T, 3L), (late.GranularitySeconds, late.WindowStart, late.Weight));
        var closedMinute = checkpoint.Partials.Single(p => p.Closed && p.GranularitySeconds == 60);
        Assert.Equal(["a"], SketchCodec.Decode(closedMinute.Sketch).Entries().Select(e => e.Key));
        Assert.DoesNotContain("late", aggregator.MergeInMemory("host", TopKTestData.Minute, T.AddSeconds(75)).Entries.Select(e => e.Key));
        // The hour is still open: for it the event is on time.
        Assert.Contains(new SketchEntry("late", 3, 0), aggregator.MergeInMemory("host", TopKTestData.Hour, T).Entries);
        Assert.Equal([3L, 0L], stats.Late);
    }

    [Fact]
    public void ACheckpointFoundStoredAfterAllLeavesOnlyWhatCameAfterItPending()
    {
        // A checkpoint whose commit got no answer, then more late events; the server says it was stored after all.
        var aggregator = TopKTestData.Aggregator("host", lateness: TimeSpan.FromSeconds(10));
        var stats = new ApplyStats(2);
        aggregator.Apply(P0, 0, TopKTestData.Syslog(T.AddSeconds(5), host: "a"), T.AddMinutes(5), stats);
        aggregator.Apply(P0, 1, TopKTestData.Syslog(T.AddSeconds(75), host: "b"), T.AddMinutes(5), stats);
        aggregator.Apply(P0, 2, TopKTestData.Syslog(T.AddSeconds(20), host: "late", sampleRate: 3), T.AddMinutes(5), stats);
        var inDoubt = aggregator.TakeCheckpoint(T.AddMinutes(5));
        aggregator.Apply(P0, 3, TopKTestData.Syslog(T.AddSeconds(30), host: "later", sampleRate: 2), T.AddMinutes(5), stats);

        aggregator.Stored(inDoubt);
        var next = aggregator.TakeCheckpoint(T.AddMinutes(5));
        // Late weights add up in the store: only the 2 since are still to be added; the closed minute is not closed twice.
        Assert.Equal((60, T, 2L), Assert.Single(next.Late) is var late ? (late.GranularitySeconds, late.WindowStart, late.Weight) : default);
        Assert.DoesNotContain(next.Partials, p => p.Closed);
        Assert.Equal(4L, next.Progress.Single(p => p.GranularitySeconds == 60).NextOffset);
    }

    [Fact]
    public void AnIdlePartitionClosesOnTheWallClockAndABusyOneDoesNot()
    {
        var aggregator = TopKTestData.Aggregator("host", lateness: TimeSpan.FromSeconds(10), rollup: false);
        var stats = new ApplyStats(1);
        aggregator.Apply(P0, 0, TopKTestData.Syslog(T.AddSeconds(30)), T.AddSeconds(31), stats);
        aggregator.Apply(P1, 0, TopKTestData.Syslog(T.AddSeconds(30)), T.AddSeconds(65), stats);

        // At T+75 s the window is due on the wall clock; P0 has been quiet for 44 s, P1 for 10 s.
        Assert.Equal(1, aggregator.CloseIdle(T.AddSeconds(75), idleTimeout: TimeSpan.FromSeconds(20)));
        var closed = aggregator.TakeCheckpoint(T.AddSeconds(75)).Partials.Where(p => p.Closed).ToList();
        Assert.Equal(P0, Assert.Single(closed).Partition);
    }

    [Fact]
    public void OpenWindowsStayWithinLatenessOverWindowPlusTwoWhateverTheOrderOfEvents()
    {
        var aggregator = TopKTestData.Aggregator("host", lateness: TimeSpan.FromSeconds(150));
        var stats = new ApplyStats(2);
        var random = new Random(3);
        for (var i = 0; i < 20_000; i++)
        {
            // Three hours of events in no order at all, as a mix of live traffic and spool replays could give.
            aggregator.Apply(P0, i, TopKTestData.Syslog(T.AddSeconds(random.Next(3 * 3600))), T.AddHours(3), stats);
            var state = aggregator.Find(P0)!;
            Assert.InRange(state.Open[0].Count, 0, 150 / 60 + 2);
            Assert.InRange(state.Open[1].Count, 0, 2);
            if (i % 1000 == 0) aggregator.Checkpointed();
        }
        Assert.Equal(20_000, stats.Counted[0] + stats.Late[0]);
    }

    [Fact]
    public void RecordsBelowTheCheckpointedOffsetAreNotCountedAgain()
    {
        var aggregator = TopKTestData.Aggregator("host");
        var stats = new ApplyStats(2);
        aggregator.Apply(P0, 10, TopKTestData.Syslog(T), T, stats);
        aggregator.Apply(P0, 10, TopKTestData.Syslog(T), T, stats);
        aggregator.Apply(P0, 5, TopKTestData.Syslog(T), T, stats);
        Assert.Equal(1, aggregator.MergeInMemory("host", TopKTestData.Minute, T).Total);
        Assert.Equal(2, stats.Duplicates);
    }

    [Fact]
    public void EventsStampedFarInTheFutureAreNotCountedAndDoNotMoveTheClock()
    {
        var aggregator = TopKTestData.Aggregator("host");
        var stats = new ApplyStats(2);
        aggregator.Apply(P0, 0, TopKTestData.Syslog(T.AddDays(1)), T, stats);
        aggregator.Apply(P0, 1, TopKTestData.Syslog(T), T, stats);
        Assert.Equal(1, stats.Future);
        Assert.Equal(1, aggregator.MergeInMemory("host", TopKTestData.Minute, T).Total);
        Assert.Equal(0, stats.Late.Sum());
    }

    [Fact]
    public void WhatIsNotAnEnvelopeIsRefusedBeforeAnythingOfItIsCounted()
    {
        var aggregator = TopKTestData.Aggregator("host");
        var stats = new ApplyStats(2);
        Assert.False(aggregator.Apply(P0, 0, "garbage"u8, T, stats));
        Assert.False(aggregator.Apply(P0, 1, """{"id":"x","kind":"log"}"""u8, T, stats));
        Assert.True(aggregator.Apply(P0, 0, TopKTestData.Syslog(T), T, stats));
    }

    [Fact]
    public void ResumingFromACheckpointCountsExactlyAsAnUninterruptedRun()
    {
        var stream = Stream(20_000, seed: 5).ToList();
        var uninterrupted = TopKTestData.Aggregator(capacity: 40, lateness: TimeSpan.FromSeconds(5));
        Feed(uninterrupted, stream, 0, stream.Count);

        // Checkpoint every 1,000 records; "crash" after 8,500 (500 counted but never stored) and resume.
        var store = new FakeStore();
        var first = TopKTestData.Aggregator(capacity: 40, lateness: TimeSpan.FromSeconds(5));
        for (var at = 0; at < 8_000; at += 1_000)
        {
            Feed(first, stream, at, 1_000);
            store.Apply(first.TakeCheckpoint(T));
            first.Checkpointed();
        }
        Feed(first, stream, 8_000, 500);
        var resumed = TopKTestData.Aggregator(capacity: 40, lateness: TimeSpan.FromSeconds(5));
        foreach (var partition in store.Load()) resumed.Restore(partition, T);
        var next = resumed.Partitions.ToDictionary(p => p, p => resumed.Find(p)!.NextOffset);
        Feed(resumed, stream.Where(r => r.Offset >= next.GetValueOrDefault(r.Partition, 0)).ToList(), 0, int.MaxValue);

        foreach (var dimension in new[] { "host", "template", "source_ip", "severity" })
            foreach (var g in new[] { TopKTestData.Minute, TopKTestData.Hour })
                for (var m = 0; m < 10; m++)
                {
                    var when = T.AddMinutes(m);
                    var expected = Answer(uninterrupted, store, dimension, g, when);
                    var actual = Answer(resumed, store, dimension, g, when);
                    Assert.Equal(expected.Entries, actual.Entries);
                    Assert.Equal(expected.Total, actual.Total);
                }
    }

    private static MergedSketch Answer(TopKAggregator aggregator, FakeStore store, string dimension, Granularity g, DateTimeOffset at)
    {
        // What is still open lives in memory; closed windows are in the store (the uninterrupted run keeps them pending).
        var memory = aggregator.MergeInMemory(dimension, g, at);
        if (memory.Parts > 0) return memory;
        return SketchMerge.Merge(store.Closed(g.Seconds, g.Start(at), dimension));
    }

    private static IEnumerable<(PartitionKey Partition, long Offset, byte[] Value, DateTimeOffset Now)> Stream(int count, int seed)
    {
        var random = new Random(seed);
        var zipf = new Zipf(400, 1.1, seed);
        var offsets = new long[3];
        for (var i = 0; i < count; i++)
        {
            var partition = random.Next(3);
            // Ten minutes of events, slightly out of order, some sampled.
            var at = T.AddMilliseconds(i * 30 + random.Next(-2_000, 2_000));
            var host = "host-" + zipf.Next();
            var message = $"Failed password for user{random.Next(50)} from 10.0.{random.Next(4)}.{zipf.Next() % 250} port {random.Next(1024, 65535)} ssh2";
            yield return (new PartitionKey("syslog", partition), offsets[partition]++,
                TopKTestData.Syslog(at, host: host, severity: random.Next(8), message: message, sampleRate: random.Next(10) == 0 ? 4 : 1), at.AddSeconds(1));
        }
    }

    private static void Feed(TopKAggregator aggregator, IReadOnlyList<(PartitionKey Partition, long Offset, byte[] Value, DateTimeOffset Now)> stream, int from, int count)
    {
        var stats = new ApplyStats(2);
        foreach (var r in stream.Skip(from).Take(count)) Assert.True(aggregator.Apply(r.Partition, r.Offset, r.Value, r.Now, stats));
    }

    /// <summary>What the PostgreSQL store keeps, in memory: rows upserted by key, closed rows final.</summary>
    private sealed class FakeStore
    {
        private readonly Dictionary<(PartitionKey, int, DateTimeOffset, string), PartialRow> _rows = [];
        private readonly Dictionary<(PartitionKey, int), ProgressRow> _progress = [];

        public void Apply(Checkpoint checkpoint)
        {
            foreach (var row in checkpoint.Partials)
            {
                var key = (row.Partition, row.GranularitySeconds, row.WindowStart, row.Dimension);
                if (_rows.TryGetValue(key, out var existing) && existing.Closed) continue;
                _rows[key] = row;
            }
            foreach (var p in checkpoint.Progress) _progress[(p.Partition, p.GranularitySeconds)] = p;
        }

        public IEnumerable<StoredPartition> Load() =>
            _progress.Values.GroupBy(p => p.Partition).Select(g => new StoredPartition(
                g.Key, g.First().NextOffset, g.First().Epoch, g.First().Watermark,
                g.Where(p => p.ClosedThrough is not null).ToDictionary(p => p.GranularitySeconds, p => p.ClosedThrough!.Value),
                _rows.Values.Where(r => r.Partition == g.Key && !r.Closed)
                    .Select(r => new StoredPartial(r.GranularitySeconds, r.WindowStart, r.Dimension, r.Events, r.Sketch)).ToList()));

        public List<PartialSketch> Closed(int granularity, DateTimeOffset start, string dimension) =>
            _rows.Values.Where(r => r.Closed && r.GranularitySeconds == granularity && r.WindowStart == start && r.Dimension == dimension)
                .OrderBy(r => r.Partition.Partition)
                .Select(r =>
                {
                    var (capacity, total, entries) = SketchCodec.Read(r.Sketch);
                    return PartialSketch.Of(capacity, total, entries);
                }).ToList();
    }
}
