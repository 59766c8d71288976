using Pipeline.Core.Metrics;
using Pipeline.Edge.Publishing;

namespace Pipeline.UnitTests.Edge;

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
    public async Task TheLedgerBalancesInEveryScrapeWhileEventsMove()
    {
        var metrics = new MetricsRegistry();
        var ledger = new LossLedger(metrics);
        var cell = ledger.Cell("syslog-tcp", "default");
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
        // Scrape until events have really moved: a good number received, and scrapes taken while the counts
        // changed between them (a ledger checked only before the writers start, or after they stop, proves nothing).
        var scrapesInMotion = 0;
        var previous = cell.Snapshot();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((previous.Received < 200_000 || scrapesInMotion < 50) && DateTime.UtcNow < deadline)
        {
            var scrape = cell.Snapshot();
            Assert.True(scrape.Balances, scrape.ToString());
            if (scrape.Received != previous.Received) scrapesInMotion++;
            previous = scrape;
            metrics.Render();
        }
        Assert.True(previous.Received >= 200_000, $"only {previous.Received} events moved before the deadline");
        Assert.True(scrapesInMotion >= 50, $"only {scrapesInMotion} scrapes saw events moving");
        await stop.CancelAsync();
        await Task.WhenAll(receivers);
        inFlight.CompleteAdding();
        await acknowledger;
        var final = cell.Snapshot();
        Assert.True(final.Balances);
        Assert.Equal(final.Received, final.Published);
        Assert.Contains("edge_events_published_total{listener=\"syslog-tcp\",route=\"default\"}", metrics.Render());
    }
}
