using System.Text;
using System.Text.RegularExpressions;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Publishing.Spool;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

public sealed partial class EdgeCrashTests
{
    [KafkaFact]
    public async Task InDiskModeEveryEventFsyncedBeforeASigkillReachesKafkaAfterTheRestart()
    {
        const int count = 200_000;
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        string[] diskMode = ["--Edge:Listeners:syslog-tcp:Buffer=Disk"];
        var edge = await pipeline.StartEdgeAsync(diskMode);

        using var stopSending = new CancellationTokenSource();
        var sender = Task.Run(async () =>
        {
            try
            {
                return await SyslogSender.SendTcpAsync(edge.SyslogPort, count, 0, n => SyslogSender.Line("crash", n), cancellationToken: stopSending.Token);
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
            {
                return -1;
            }
        });
        // The edge counts what it fsynced; events are appended in the order of the one connection.
        var synced = await Eventually.Until(async () => (await MetricsText.ScrapeAsync(edge.Process)).Sum("edge_spool_synced_records_total"),
            s => s >= 20_000, TimeSpan.FromMinutes(1), "records fsynced under load");
        await edge.Process.KillAsync();
        await stopSending.CancelAsync();
        await sender;

        var restarted = await pipeline.StartEdgeAsync(diskMode, spool: edge.Spool);
        await Eventually.Until(async () => (await MetricsText.ScrapeAsync(restarted.Process)).Sum("edge_spool_records"), n => n == 0,
            TimeSpan.FromMinutes(1), "spool drained after the restart");

        var syslog = pipeline.Topic("syslog");
        var inKafka = (int)TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, syslog, pipeline.Partitions("syslog"));
        TopicReader.AssertKeptWhole(pipeline.Kafka.BootstrapServers, syslog);
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, syslog, inKafka, TimeSpan.FromMinutes(1));
        var seqs = events.Select(Seq).ToHashSet();
        var missing = Enumerable.Range(0, (int)synced).Where(n => !seqs.Contains(n)).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of the {synced} fsynced events are missing, first {string.Join(",", missing.Take(5))}");
        // A re-sent record is the same event (same id), so consumers de-duplicate it by id.
        Assert.All(events.GroupBy(Seq), g => Assert.Single(g.Select(e => e.Id).Distinct()));
    }

    [KafkaFact]
    public async Task ASpoolWithATornTailAndFlippedBytesIsRecoveredAtStartUpWithTheDamageCounted()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var spoolDirectory = Directory.CreateTempSubdirectory("edge-damaged-").FullName;
        using (var spool = new SpoolLog(new SpoolOptions { Directory = spoolDirectory }))
        {
            for (var i = 0; i < 100; i++)
            {
                var envelope = EnvelopeCodec.Encode(new TelemetryEvent
                {
                    Id = $"01JDAMAGED{i:D16}", ReceivedAt = DateTimeOffset.UtcNow, Message = $"spooled seq={i}",
                    Source = new EventSource { Transport = "tcp" },
                });
                spool.TryAppend(new SpoolRecord("syslog-tcp", "default", pipeline.Topic("syslog"), Encoding.ASCII.GetBytes("h"), envelope), out _);
            }
        }
        var file = Directory.GetFiles(spoolDirectory, "*.spool").Single();
        var bytes = File.ReadAllBytes(file);
        var recordLength = bytes.Length / 100;
        bytes[10 * recordLength + 40] ^= 0xFF;                      // flipped bytes inside record 10
        File.WriteAllBytes(file, bytes[..(bytes.Length - recordLength / 2)]); // and record 99 torn in half

        var edge = await pipeline.StartEdgeAsync(spool: spoolDirectory);
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(98, metrics.Sum("edge_spool_recovered_records_total"));
        Assert.Equal(2, metrics.Sum("edge_spool_damaged_regions_total"));
        Assert.True(metrics.Sum("edge_spool_damaged_bytes_total") >= recordLength);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 98, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 99).Where(n => n != 10), events.Select(Seq).Order());
        // Started, delivered, and alive: a damaged spool never wedges or crash-loops the edge.
        Assert.False(edge.Process.HasExited);
    }

    private static int Seq(TelemetryEvent e) => int.Parse(SeqPattern().Match(e.Message!).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"seq=(\d+)")]
    private static partial Regex SeqPattern();
}
