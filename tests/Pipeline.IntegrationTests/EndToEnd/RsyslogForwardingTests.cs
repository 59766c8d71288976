using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.EndToEnd;

public sealed class RsyslogForwardingTests
{
    [KafkaFact]
    public async Task TheReadmeRsyslogSnippetForwardsToTheEdgeOverUdp()
    {
        var snippet = await File.ReadAllTextAsync(Repository.Path_("infra", "rsyslog", "60-pipeline-udp.conf"));
        var readme = await File.ReadAllTextAsync(Repository.Path_("docs", "walkthroughs.md"));
        Assert.Contains(snippet.Replace("EDGE_HOST", "10.0.0.5", StringComparison.Ordinal).Trim(), readme, StringComparison.Ordinal);

        await ForwardThroughRsyslogAsync("60-pipeline-udp.conf", "udp");
    }

    [KafkaFact]
    public async Task TheTcpSnippetForwardsToTheEdgeWithOctetCounting()
    {
        var snippet = await File.ReadAllTextAsync(Repository.Path_("infra", "rsyslog", "60-pipeline-tcp.conf"));
        Assert.Contains("TCP_Framing=\"octet-counted\"", snippet, StringComparison.Ordinal);
        await ForwardThroughRsyslogAsync("60-pipeline-tcp.conf", "tcp");
    }

    private static async Task ForwardThroughRsyslogAsync(string snippetFile, string transport)
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        await using var rsyslog = await RsyslogInstance.StartAsync(snippetFile, "127.0.0.1", edge.SyslogPort);

        var lines = Enumerable.Range(0, 20).Select(i => $"through rsyslog {i}").ToList();
        foreach (var line in lines)
            await Peers.RunAsync("logger", ["--tcp", "--server", "127.0.0.1", "--port", rsyslog.InputPort.ToString(), "--rfc5424", "-t", "forwarded", "-p", "daemon.notice", line]);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), lines.Count, TimeSpan.FromSeconds(60));
        Assert.Equal(lines.Order(), events.Select(e => e.Message!).Order());
        Assert.All(events, e =>
        {
            Assert.Equal("forwarded", e.Syslog!.AppName);
            Assert.Equal(3, e.Syslog.Facility);
            Assert.Equal(5, e.Syslog.Severity);
            Assert.Equal("5424", e.Syslog.Rfc);
            Assert.Equal(Peers.HostName, e.Syslog.Hostname);
            Assert.Equal(transport, e.Source.Transport);
        });
    }
}
