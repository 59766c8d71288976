using System.Text;
using Pipeline.Consumers.Postgres;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Noc;

public sealed class BatchPartsTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 14, 9, 26, 53, TimeSpan.Zero);

    [Fact]
    public void EveryPartitionGoesWholeToOnePartWithItsPositionAndThePartsAreBalancedByRows()
    {
        // Rows per partition: 0 → 400, 1 → 300, 2 → 300, 3 → 200, 4 → 100 (1,300 rows), interleaved as Kafka hands them out.
        var sizes = new[] { 400, 300, 300, 200, 100 };
        var events = Interleaved(sizes);
        var next = sizes.Select((n, p) => (p, n)).ToDictionary(x => new PartitionKey("syslog", x.p), x => 1000L + x.n);

        var parts = BatchParts.Split(events, [], next, parts: 2, minRowsPerPart: 500);

        Assert.Equal(2, parts.Count);
        // Largest first to the lighter part: 400 | 300, 300 → 400 | 600, 200 → 600 | 600, 100 → 700 | 600.
        Assert.Equal([600, 700], parts.Select(p => p.Rows).Order());
        foreach (var part in parts)
        {
            var partitions = part.Events.Select(r => r.Record.Partition).Distinct().Order().ToArray();
            Assert.Equal(partitions, part.Offsets.Select(o => o.Partition).Order());
            foreach (var p in partitions) Assert.Equal(sizes[p], part.Events.Count(r => r.Record.Partition == p));
            // Within a part, rows keep the order they were read in.
            Assert.Equal(part.Events.Select(r => r.Record.Offset), part.Events.Select(r => r.Record.Offset).Order());
        }
        Assert.Equal(next.OrderBy(o => o.Key.Partition).Select(o => o.Value),
            parts.SelectMany(p => p.Offsets).OrderBy(o => o.Partition).Select(o => o.NextOffset));
    }

    [Theory]
    [InlineData(999, 2, 500, 1)]   // a part would get fewer than 500 rows
    [InlineData(1000, 2, 500, 2)]
    [InlineData(5000, 1, 500, 1)]  // one connection configured
    [InlineData(5000, 4, 500, 3)]  // no more parts than partitions with rows
    public void ABatchIsSplitOnlyWhereEveryPartGetsEnoughRows(int rows, int connections, int minRows, int expectedParts)
    {
        var sizes = new[] { rows / 3, rows / 3, rows - 2 * (rows / 3) };
        var events = Interleaved(sizes);
        var next = Enumerable.Range(0, 3).ToDictionary(p => new PartitionKey("syslog", p), p => (long)sizes[p]);

        var parts = BatchParts.Split(events, [], next, connections, minRows);

        Assert.Equal(expectedParts, parts.Count);
        Assert.Equal(rows, parts.Sum(p => p.Rows));
    }

    [Fact]
    public void MetricRowsFollowTheirPartitionAndAPositionWithoutRowsGoesWithTheFirstPart()
    {
        var events = Interleaved([600, 0]);
        var metrics = Enumerable.Range(0, 600).Select(i => Row("metrics", 0, i)).ToList();
        var next = new Dictionary<PartitionKey, long>
        {
            [new PartitionKey("syslog", 0)] = 600,
            [new PartitionKey("metrics", 0)] = 600,
            // Every record of this partition went to the dead-letter topic: only its position is left to store.
            [new PartitionKey("syslog", 7)] = 12,
        };

        var parts = BatchParts.Split(events, metrics, next, parts: 2, minRowsPerPart: 500);

        Assert.Equal(2, parts.Count);
        var withMetrics = Assert.Single(parts, p => p.Metrics.Count > 0);
        Assert.Empty(withMetrics.Events);
        Assert.Contains(("metrics", 0, 600L), withMetrics.Offsets);
        Assert.Contains(("syslog", 7, 12L), parts[0].Offsets);
        Assert.Equal(3, parts.Sum(p => p.Offsets.Count));
    }

    [Fact]
    public void AnEmptyBatchIsOnePartCarryingThePositions()
    {
        var next = new Dictionary<PartitionKey, long> { [new PartitionKey("syslog", 3)] = 9 };
        var part = Assert.Single(BatchParts.Split([], [], next, parts: 2, minRowsPerPart: 1));
        Assert.Equal(0, part.Rows);
        Assert.Equal([("syslog", 3, 9L)], part.Offsets);
    }

    private static List<EventRow> Interleaved(int[] sizes)
    {
        var rows = new List<EventRow>();
        var taken = new int[sizes.Length];
        while (rows.Count < sizes.Sum())
            for (var p = 0; p < sizes.Length; p++)
                if (taken[p] < sizes[p]) rows.Add(Row("syslog", p, taken[p]++));
        return rows;
    }

    private static EventRow Row(string topic, int partition, long offset) =>
        EventRow.From(new ConsumedRecord(topic, partition, offset, null,
            Encoding.UTF8.GetBytes($$"""{"v":1,"id":"01JAAAAAAAAAAAAAAAAAAA{{partition:D2}}{{offset % 100:D2}}","received_at":"2026-03-14T09:26:53Z","kind":"log","message":"m"}"""), At));
}
