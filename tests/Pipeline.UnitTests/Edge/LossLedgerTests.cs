using OpenTelemetry;
using OpenTelemetry.Metrics;
using Pipeline.Edge;
using Pipeline.Edge.Publishing;
using Pipeline.Testing;

namespace Pipeline.UnitTests.Edge;

/// <summary>
/// The exporter test listens to every meter named <see cref="EdgeMetrics.MeterName"/> in the process, as a real
/// MeterProvider does; run alone, so that no other test's edge instruments of the same names come and go under it.
/// </summary>
[CollectionDefinition(nameof(ProcessWideMeterListeners), DisableParallelization = true)]
public sealed class ProcessWideMeterListeners;

[Collection(nameof(ProcessWideMeterListeners))]
public sealed class LossLedgerTests
{
    [Fact]
    public void EveryTransitionKeepsTheLedgerBalanced()
    {
        var cell = new LedgerCell(0, "syslog-udp", "default");
        cell.ReceivedIntoMemory();
        cell.ReceivedIntoMemory();
        cell.ReceivedIntoMemory();
        cell.ReceivedAndDropped(DropReason.SampledOut);
        cell.MemoryPublished();
        cell.MemoryToSpool();
        cell.ReceivedIntoSpool(2);
        cell.SpoolPublished(2);
        cell.Recovered(5);
        cell.SpoolDropped(DropReason.KafkaRejected);
        cell.ReceivedIntoMemory();
        cell.Retract();

        var s = cell.Snapshot();
        Assert.True(s.Balances, s.ToString());
        Assert.Equal(6, s.Received);
        Assert.Equal(3, s.Published);
        Assert.Equal(1, s.PendingMemory);
        Assert.Equal(5, s.PendingSpool);
    }

    [Fact]
    public void ACellIsFoundByTheNamesValuesWhicheverLedgerAndStringsAsk()
    {
        // The thread remembers its last cell by reference: equal names in other strings, another ledger asked in
        // between, and the pair asked again must each still get the right cell.
        using var meters = new InProcessMetrics();
        var first = new LossLedger(new EdgeMetrics(meters));
        var second = new LossLedger(new EdgeMetrics(meters));
        var listener = "syslog-udp";
        var route = "default";
        var cell = first.Cell(listener, route);
        Assert.Same(cell, first.Cell(listener, route));
        Assert.Same(cell, first.Cell(new string(listener.AsSpan()), new string(route.AsSpan())));
        var other = second.Cell(listener, route);
        Assert.NotSame(cell, other);
        Assert.Same(cell, first.Cell(listener, route));
        Assert.Same(other, second.Cell(listener, route));
        var elsewhere = first.Cell(listener, "security");
        Assert.NotSame(cell, elsewhere);
        Assert.Equal(("syslog-udp", "security"), (elsewhere.Listener, elsewhere.Route));
        Assert.Same(cell, first.Cell(listener, route));
        Assert.Equal(2, first.Cells.Count);
    }

    [Fact]
    public async Task TheLedgerBalancesInEveryCollectionOfTwoExportersWhileEventsMove()
    {
        // Two MeterProviders, as a process with a Prometheus scrape and an OTLP push has, collecting at the same
        // time on two threads, through the real OpenTelemetry SDK.
        using var meters = new InProcessMetrics();
        var ledger = new LossLedger(new EdgeMetrics(meters));
        var listener = "syslog-tcp-" + Guid.NewGuid().ToString("N")[..8];
        var cell = ledger.Cell(listener, "default");
        var scrape = new List<MetricSnapshot>();
        var push = new List<MetricSnapshot>();
        using var scraper = Sdk.CreateMeterProviderBuilder().AddMeter(EdgeMetrics.MeterName).AddInMemoryExporter(scrape).Build();
        using var pusher = Sdk.CreateMeterProviderBuilder().AddMeter(EdgeMetrics.MeterName).AddInMemoryExporter(push).Build();
        using var stop = new CancellationTokenSource();
        var inFlight = new System.Collections.Concurrent.BlockingCollection<int>(10_000);
        // Received on these threads, acknowledged on another (as the producer's delivery thread does).
        var receivers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                cell.ReceivedIntoMemory();
                inFlight.Add(1);
            }
        })).ToArray();
        var acknowledger = Task.Run(() =>
        {
            foreach (var _ in inFlight.GetConsumingEnumerable()) cell.MemoryPublished();
        });

        // Collect until events have really moved: a good number received, and collections taken while the counts
        // changed between them (a ledger checked only before the writers start, or after they stop, proves nothing).
        var collections = await Task.WhenAll(
            Task.Run(() => CollectWhileMoving(scraper, scrape, listener)),
            Task.Run(() => CollectWhileMoving(pusher, push, listener)));
        await stop.CancelAsync();
        await Task.WhenAll(receivers);
        inFlight.CompleteAdding();
        await acknowledger;

        foreach (var (unbalanced, inMotion, received) in collections)
        {
            Assert.Empty(unbalanced);
            Assert.True(received >= 200_000, $"only {received} events moved before the deadline");
            Assert.True(inMotion >= 50, $"only {inMotion} collections saw events moving");
        }
        var final = cell.Snapshot();
        Assert.True(final.Balances);
        Assert.Equal(final.Received, final.Published);
    }

    private static (List<string> Unbalanced, int InMotion, long Received) CollectWhileMoving(MeterProvider provider, List<MetricSnapshot> exported, string listener)
    {
        var unbalanced = new List<string>();
        var inMotion = 0;
        long previous = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((previous < 200_000 || inMotion < 50) && DateTime.UtcNow < deadline)
        {
            exported.Clear();
            provider.ForceFlush();
            double Sum(string name) => exported.Where(m => m.Name == name).SelectMany(m => m.MetricPoints)
                .Where(p => Of(p, listener))
                .Sum(p => p.GetSumLong());
            var received = (long)Sum("edge_events_received_total");
            var left = received + Sum("edge_events_recovered_total");
            var right = Sum("edge_events_published_total") + Sum("edge_events_pending") + Sum("edge_events_dropped_total");
            if (left != right) unbalanced.Add($"{left} != {right}");
            if (received != previous) inMotion++;
            previous = received;
        }
        return (unbalanced, inMotion, previous);
    }

    private static bool Of(MetricPoint point, string listener)
    {
        foreach (var tag in point.Tags)
            if (tag.Key == "listener" && Equals(tag.Value, listener)) return true;
        return false;
    }
}
