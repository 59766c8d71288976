using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

public sealed class SheddingTests
{
    [EmbeddedKafkaFact("takes the brokers down or slows them")]
    public async Task WhenBuffersFillDebugEventsAreShedBeforeSecurityEventsAndTheLedgerSaysSo()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, extraTopics: ["debug", "security"]);
        var edge = await pipeline.StartEdgeAsync([
            "--Edge:Memory:MaxEvents=100", "--Edge:Spool:MaxBytes=1048576", "--Edge:Spool:SegmentBytes=65536",
            "--Edge:Routes:0:Name=debug", "--Edge:Routes:0:Match:Severity:0=debug", "--Edge:Routes:0:Topic=debug", "--Edge:Routes:0:Priority=Low",
            "--Edge:Routes:1:Name=security", "--Edge:Routes:1:Match:Facility:0=auth", "--Edge:Routes:1:Topic=security", "--Edge:Routes:1:Priority=High"]);
        pipeline.Kafka.SetAllBrokersDown();

        // Over UDP, alternating, until the spool (1 MiB) is full: about 600-byte envelopes, so ~4,000 events fill it.
        using var udp = new UdpClient();
        udp.Connect("127.0.0.1", edge.SyslogPort);
        var padding = new string('x', 200);
        for (var i = 0; i < 6000; i++)
        {
            var pri = i % 2 == 0 ? 8 * 1 + 7 : 8 * 4 + 2; // user.debug or auth.crit
            await udp.SendAsync(Encoding.UTF8.GetBytes($"<{pri}>1 2026-11-21T10:00:00Z host app - - - event {i} {padding}"));
            if (i % 200 == 199) await Task.Delay(20);
        }
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process),
            m => m.Sum("edge_events_received_total") + m.Sum("edge_udp_socket_drops_total") >= 6000, TimeSpan.FromSeconds(30), "all datagrams received");

        (string, string) debug = ("route", "debug"), security = ("route", "security");
        var debugShed = metrics.Sum("edge_events_dropped_total", debug, ("reason", "shed"));
        var securityShed = metrics.Sum("edge_events_dropped_total", security, ("reason", "shed"));
        var securityKept = metrics.Sum("edge_events_pending", security);
        var debugKept = metrics.Sum("edge_events_pending", debug);
        Assert.True(debugShed > 0, "debug events should have been shed");
        Assert.Equal(0, securityShed);
        Assert.True(securityKept > debugKept, $"security kept {securityKept}, debug kept {debugKept}");
        // Once the spool is wholly full even security events are dropped — and counted, with their reason.
        Assert.True(metrics.Sum("edge_events_dropped_total", security, ("reason", "buffer_full")) > 0);
        foreach (var route in new[] { "debug", "security" })
        {
            var (left, right) = metrics.Ledger("syslog-udp", route);
            Assert.Equal(left, right);
        }
    }

    [EmbeddedKafkaFact("takes the brokers down or slows them")]
    public async Task AFullEdgeStopsReadingATcpConnectionAndLosesNothingOnceKafkaReturns()
    {
        const int count = 400_000;
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Memory:MaxEvents=1000", "--Edge:Spool:MaxBytes=2097152", "--Edge:Spool:SegmentBytes=65536"]);
        pipeline.Kafka.SetAllBrokersDown();
        var progress = new StrongBox<int>();
        var sending = Task.Run(() => SyslogSender.SendTcpAsync(edge.SyslogPort, count, 0, n => SyslogSender.Line("pushback", n), progress: progress));

        await Eventually.Until(async () => (await MetricsText.ScrapeAsync(edge.Process)).Sum("edge_tcp_backpressure_waits_total"),
            n => n > 0, TimeSpan.FromSeconds(30), "backpressure");
        // Once the socket buffers between them are full the sender cannot write any more: its progress stalls.
        var seen = -1;
        await Eventually.True(() =>
        {
            var now = Volatile.Read(ref progress.Value);
            var stalled = now == seen;
            seen = now;
            return stalled;
        }, TimeSpan.FromSeconds(30), "the sender held back", every: TimeSpan.FromSeconds(1));
        Assert.False(sending.IsCompleted, "the sender should be held back while the edge is full");
        Assert.True(seen < count);

        pipeline.Kafka.SetAllBrokersUp();
        Assert.Equal(count, await sending);
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => m.Sum("edge_events_published_total") >= count,
            TimeSpan.FromMinutes(1), "all published");
        Assert.Equal(0, metrics.Sum("edge_events_dropped_total"));
        Assert.Equal(count, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "syslog", 6));
    }

    [EmbeddedKafkaFact("takes the brokers down or slows them")]
    public async Task WhileKafkaAcknowledgesSlowerThanEventsComeATcpSenderIsHeldBackRatherThanSentThroughTheSpool()
    {
        const int count = 20_000;
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        // Kafka keeps acknowledging, far slower than a TCP sender writes.
        var edge = await SlowKafka.StartEdgeAsync(pipeline);

        Assert.Equal(count, await SyslogSender.SendTcpAsync(edge.SyslogPort, count, 0, n => SyslogSender.Line("slow-kafka", n)));
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process), m => m.Sum("edge_events_published_total") >= count,
            TimeSpan.FromMinutes(2), "all published");
        Assert.True(metrics.Sum("edge_tcp_backpressure_waits_total") > 0, "the sender should have been held back");
        SlowKafka.AssertNothingSpooledOrDropped(metrics);
        Assert.Equal(count, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "syslog", 6));
    }

    [EmbeddedKafkaFact("takes the brokers down or slows them")]
    public async Task WhileKafkaAcknowledgesSlowerThanDatagramsComeUdpProcessingPausesWithItsQueueRatherThanSendingThroughTheSpool()
    {
        const int count = 5000;
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        // Kafka keeps acknowledging, far slower than the datagrams come.
        var edge = await SlowKafka.StartEdgeAsync(pipeline);

        using var udp = new UdpClient();
        udp.Connect("127.0.0.1", edge.SyslogPort);
        for (var i = 0; i < count; i++)
        {
            await udp.SendAsync(Encoding.UTF8.GetBytes(SyslogSender.Line("slow-kafka-udp", i)));
            if (i % 500 == 499) await Task.Delay(10); // well within the socket's buffer: what is measured is the edge's queue
        }
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process),
            m => m.Sum("edge_events_published_total") + m.Sum("edge_udp_socket_drops_total") >= count, TimeSpan.FromMinutes(2), "all published");
        Assert.Equal(0, metrics.Sum("edge_udp_socket_drops_total"));
        Assert.Equal(count, metrics.Sum("edge_events_published_total"));
        SlowKafka.AssertNothingSpooledOrDropped(metrics);
        Assert.Equal(count, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "syslog", 6));
    }
}
