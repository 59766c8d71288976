using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Pipeline.Core.Envelope;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

public sealed partial class EdgeOutageTests
{
    [EmbeddedKafkaFact("takes the brokers down")]
    public async Task SteadyLoadThroughATwentySecondBrokerOutageArrivesExactlyOnceAndTheLedgerBalancesInEveryScrape()
    {
        const int rate = 5000, seconds = 32, count = rate * seconds;
        await using var pipeline = PipelineUnderTest.Start(brokers: 3);
        // A small memory buffer so the outage also exercises the overflow into the spool. Every event is read back
        // below, and all of a topic's events share one key (one partition), of which the embedded broker keeps only
        // 5 MiB: zstd in batches of 50 ms holds the 160,000 (lz4, the default, about 145,000).
        var edge = await pipeline.StartEdgeAsync(["--Edge:Memory:MaxEvents=20000", "--Edge:Producer:Compression=zstd", "--Edge:Producer:LingerMs=50"]);

        using var done = new CancellationTokenSource();
        var sent = new StrongBox<int>();
        var tcp = Task.Run(() => SyslogSender.SendTcpAsync(edge.SyslogPort, count, rate, n => SyslogSender.Line("outage", n), progress: sent));
        var http = Task.Run(() => HttpSender.SendAsync(edge.HttpUrl, count, rate));
        var watch = Task.Run(() => WatchLedgerAsync(edge.Process, done.Token));

        // The outage is measured in load sent, not in time: the brokers go down once 5 s of it has gone out and Kafka has
        // acknowledged some, and come back after 20 s more of it, however slowly a busy machine sends.
        await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => Volatile.Read(ref sent.Value) >= 5 * rate && m.Sum("edge_events_published_total") > 0,
            TimeSpan.FromMinutes(1), "load reaching Kafka");
        pipeline.Kafka.SetAllBrokersDown();
        var sentAtOutage = Volatile.Read(ref sent.Value);
        await Eventually.True(() => Volatile.Read(ref sent.Value) >= sentAtOutage + 20 * rate, TimeSpan.FromMinutes(2), "20 s of load sent while Kafka is away");
        pipeline.Kafka.SetAllBrokersUp();

        var tcpSent = await tcp;
        var httpAccepted = await http;
        Assert.Equal(count, tcpSent);
        Assert.Equal(count, httpAccepted.Count);

        // Everything accepted is acknowledged by Kafka, the ledger says so, and nothing is pending.
        await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => m.Sum("edge_events_published_total") >= 2 * count,
            TimeSpan.FromMinutes(2), "all events published");
        await done.CancelAsync();
        var (scrapes, unbalanced, peakRss, spooled) = await watch;
        Assert.True(scrapes > 20, $"only {scrapes} scrapes");
        Assert.Empty(unbalanced);
        Assert.True(spooled > 0, "the outage should have overflowed into the spool");
        Assert.True(peakRss < 600L << 20, $"resident memory peaked at {peakRss >> 20} MiB");

        var final = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, final.Sum("edge_events_pending"));
        Assert.Equal(0, final.Sum("edge_events_dropped_total"));

        Assert.Equal(count, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "syslog", 6));
        Assert.Equal(count, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "events", 6));
        TopicReader.AssertKeptWhole(pipeline.Kafka.BootstrapServers, "syslog");
        TopicReader.AssertKeptWhole(pipeline.Kafka.BootstrapServers, "events");
        var syslog = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", count, TimeSpan.FromMinutes(1));
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", count, TimeSpan.FromMinutes(1));
        AssertExactlyOnce(syslog, e => int.Parse(Seq().Match(e.Message!).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), count);
        AssertExactlyOnce(events, e => e.Payload!.Value.GetProperty("seq").GetInt32(), count);
    }

    [EmbeddedKafkaFact("takes the brokers down")]
    public async Task ARestartWithANonEmptySpoolDeliversEverySpooledEvent()
    {
        const int count = 20_000;
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Memory:MaxEvents=5000", "--Edge:ShutdownFlushTimeout=00:00:01"]);
        pipeline.Kafka.SetAllBrokersDown();
        Assert.Equal(count, await SyslogSender.SendTcpAsync(edge.SyslogPort, count, 0, n => SyslogSender.Line("restart", n)));
        await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => m.Sum("edge_events_received_total") >= count, TimeSpan.FromSeconds(30), "all received");

        // SIGTERM while Kafka is away: what is in memory goes to the spool.
        await edge.Process.StopAsync();
        Assert.Equal(0, edge.Process.ExitCode);
        Assert.Contains(Directory.GetFiles(edge.Spool, "*.spool"), f => new FileInfo(f).Length > 0);

        pipeline.Kafka.SetAllBrokersUp();
        var restarted = await pipeline.StartEdgeAsync(spool: edge.Spool);
        var recovered = (await MetricsText.ScrapeAsync(restarted.Process)).Sum("edge_events_recovered_total");
        Assert.Equal(count, recovered);
        await Eventually.Until(() => MetricsText.ScrapeAsync(restarted.Process), m => m.Sum("edge_events_published_total") >= count,
            TimeSpan.FromMinutes(1), "spooled events published");

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", count, TimeSpan.FromMinutes(1));
        AssertExactlyOnce(events, e => int.Parse(Seq().Match(e.Message!).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), count);
    }

    private static void AssertExactlyOnce(List<TelemetryEvent> events, Func<TelemetryEvent, int> seq, int count)
    {
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
        var seqs = events.Select(seq).ToList();
        Assert.Equal(count, seqs.Count);
        Assert.Equal(Enumerable.Range(0, count), seqs.Order());
    }

    /// <summary>Scrapes every 500 ms until cancelled: the ledger must balance in each scrape.</summary>
    private static async Task<(int Scrapes, List<string> Unbalanced, long PeakRss, double Spooled)> WatchLedgerAsync(PipelineProcess edge, CancellationToken stop)
    {
        var scrapes = 0;
        var unbalanced = new List<string>();
        long peak = 0;
        double spooled = 0;
        while (!stop.IsCancellationRequested)
        {
            var metrics = await MetricsText.ScrapeAsync(edge);
            scrapes++;
            peak = Math.Max(peak, (long)metrics.Sum("process_resident_memory_bytes"));
            spooled = Math.Max(spooled, metrics.Sum("edge_events_spooled_total"));
            foreach (var cell in metrics.LabelSets("edge_events_received_total"))
            {
                var (left, right) = metrics.Ledger(cell["listener"], cell["route"]);
                if (left != right) unbalanced.Add($"{cell["listener"]}/{cell["route"]}: {left} != {right}");
            }
            try
            {
                await Task.Delay(500, stop);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return (scrapes, unbalanced, peak, spooled);
    }

    [GeneratedRegex(@"seq=(\d+)")]
    private static partial Regex Seq();
}
