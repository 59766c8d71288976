using System.Net.Sockets;
using System.Text;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

public sealed class ConnectionsAndMarkupTests
{
    [KafkaFact]
    public async Task TwoHundredConcurrentTcpConnectionsAreAllServed()
    {
        const int connections = 200, lines = 50;
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        await Task.WhenAll(Enumerable.Range(0, connections).Select(c =>
            SyslogSender.SendTcpAsync(edge.SyslogPort, lines, 0, n => SyslogSender.Line($"conn{c}", n, host: $"host-{c}"))));

        var inKafka = await Eventually.Until(() => Task.FromResult(TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), pipeline.Partitions("syslog"))),
            n => n >= connections * lines, TimeSpan.FromSeconds(60), "events in Kafka");
        Assert.Equal(connections * lines, inKafka);
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(connections, metrics.Sum("edge_tcp_connections_total"));
    }

    [KafkaFact]
    public async Task AConnectionThatSendsNothingIsClosedAfterTheIdleTimeout()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Listeners:syslog-tcp:IdleTimeout=00:00:01"]);
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", edge.SyslogPort);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(SyslogSender.Line("idle", 1) + "\n"));

        // The server closes: a read returns 0 bytes (end of stream) well within the test's patience.
        var read = await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, read);
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(1, metrics.Sum("edge_tcp_idle_closed_total"));
        Assert.Equal(1, metrics.Sum("edge_events_published_total"));
    }

    [KafkaFact]
    public async Task StaticTagsRoutesAndSamplingMarkUpWhatReachesKafka()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, extraTopics: ["syslog_stream"]);
        var edge = await pipeline.StartEdgeAsync([
            "--Edge:Tags:dc=eu-1", "--Edge:Listeners:syslog-tcp:Tags:listener=tcp-514", "--Edge:Listeners:syslog-tcp:Tenant=netops",
            "--Edge:Routes:0:Name=network", "--Edge:Routes:0:Match:Facility:0=local7", "--Edge:Routes:0:Topic=syslog_stream", "--Edge:Routes:0:SampleRate=4"]);
        // 40 local7 lines (kept 1 in 4) and 10 others (not sampled).
        await SyslogSender.SendTcpAsync(edge.SyslogPort, 50, 0, n => SyslogSender.Line("markup", n, pri: n < 40 ? 8 * 23 + 6 : 8 * 1 + 6));

        var sampled = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog_stream", 10, TimeSpan.FromSeconds(30));
        var others = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 10, TimeSpan.FromSeconds(30));
        Assert.Equal(10, sampled.Count);
        Assert.All(sampled, e => Assert.Equal((23, 4), (e.Syslog!.Facility!.Value, e.SampleRate)));
        Assert.Equal(10, others.Count);
        Assert.All(others, e => Assert.Equal(1, e.SampleRate));
        Assert.All(sampled.Concat(others), e =>
        {
            Assert.Equal("eu-1", e.Tags!["dc"]);
            Assert.Equal("tcp-514", e.Tags["listener"]);
            Assert.Equal("netops", e.Tenant);
            Assert.Equal("sender", e.Syslog!.Hostname);
        });
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(30, metrics.Sum("edge_events_dropped_total", ("route", "network"), ("reason", "sampled_out")));
    }
}
