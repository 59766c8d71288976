using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

/// <summary>
/// "Accepted" means delivered: an event too large for the listener or for Kafka is refused where the sender can be told
/// (HTTP, WebSocket), cut and marked where it cannot (syslog), and never accepted to be lost later; and every datagram
/// and frame that arrived, empty ones included, is in the loss ledger.
/// </summary>
public sealed class SizeLimitTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task OverHttpALineOverMaxEventBytesAndAnEventWhoseEnvelopeKafkaWouldRefuseAreRefusedPerLineWhileTheOthersArriveInKafka()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        // Defaults: MaxEventBytes 1 MiB, the producer's message.max.bytes 1,000,000.
        var edge = await pipeline.StartEdgeAsync();
        var nearLimit = new string('z', 900_000);
        var body = string.Join('\n',
            """{"msg":"first","host":"h1"}""",
            $$"""{"data":"{{new string('x', 1_200_000)}}"}""",
            // 600 kB of message: the envelope carries it twice (payload and message), 1.2 MB in all.
            $$"""{"msg":"{{new string('y', 600_000)}}"}""",
            // Close to what Kafka takes, yet under it once wrapped in its envelope: accepted, and delivered.
            $$"""{"data":"{{nearLimit}}","host":"big"}""",
            """{"msg":"last","host":"h2"}""") + "\n";

        var (status, reply) = await PostAsync($"{edge.HttpUrl}/v1/events?ack=kafka", body);

        Assert.Equal(200, status);
        Assert.Equal(3, reply.GetProperty("accepted").GetInt32());
        Assert.Equal(3, reply.GetProperty("acknowledged").GetInt32());
        Assert.Equal(2, reply.GetProperty("too_large").GetInt32());
        var errors = reply.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal([2, 3], errors.Select(e => e.GetProperty("line").GetInt32()));
        Assert.All(errors, e => Assert.StartsWith("too_large:", e.GetProperty("error").GetString(), StringComparison.Ordinal));
        Assert.Contains("MaxEventBytes", errors[0].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("MessageMaxBytes", errors[1].GetProperty("error").GetString(), StringComparison.Ordinal);

        // A JSON array is judged element by element the same way.
        var array = $$"""[{"msg":"in array 1"},{"data":"{{new string('w', 1_100_000)}}"},{"msg":"in array 3"}]""";
        var (arrayStatus, arrayReply) = await PostAsync($"{edge.HttpUrl}/v1/events", array);
        Assert.Equal(200, arrayStatus);
        Assert.Equal(2, arrayReply.GetProperty("accepted").GetInt32());
        Assert.Equal(2, Assert.Single(arrayReply.GetProperty("errors").EnumerateArray()).GetProperty("line").GetInt32());

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 5, Wait);
        Assert.Equal(["first", "in array 1", "in array 3", "last"], events.Where(e => e.Message is not null).Select(e => e.Message!).Order());
        Assert.Equal(nearLimit, Assert.Single(events, e => e.Message is null).Payload!.Value.GetProperty("data").GetString());

        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, metrics.Sum("edge_events_dropped_total", ("reason", "kafka_rejected")));
        Assert.Equal(3, metrics.Sum("edge_events_dropped_total", ("listener", "http"), ("reason", "too_large")));
        AssertLedgerBalances(metrics);
    }

    [Fact]
    public async Task OverHttpASyslogLineOverMaxEventBytesIsRefusedAndTheOthersAreAccepted()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Http:MaxEventBytes=4096"]);
        var body = $"<13>Feb  5 17:32:18 web-1 app: before\n<13>Feb  5 17:32:18 web-1 app: {new string('q', 5000)}\n<13>Feb  5 17:32:18 web-1 app: after\n";

        var (status, reply) = await PostAsync($"{edge.HttpUrl}/v1/syslog", body);

        Assert.Equal(200, status);
        Assert.Equal(2, reply.GetProperty("accepted").GetInt32());
        var error = Assert.Single(reply.GetProperty("errors").EnumerateArray());
        Assert.Equal(2, error.GetProperty("line").GetInt32());
        Assert.StartsWith("too_large:", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", 2, Wait);
        Assert.Equal(["after", "before"], events.Select(e => e.Message!).Order());
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, metrics.Sum("edge_events_dropped_total", ("reason", "kafka_rejected")));
        AssertLedgerBalances(metrics);
    }

    [Fact]
    public async Task AWebSocketMessageOverMaxEventBytesIsRefusedWithAReplyAndTheStreamGoesOn()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Http:MaxEventBytes=4096"]);
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{edge.HttpPort}/v1/stream"), CancellationToken.None);
        var replies = new List<JsonElement>();
        foreach (var message in new[] { """{"msg":"one"}""", $$"""{"msg":"{{new string('m', 10_000)}}"}""", """{"msg":"three"}""" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
            var buffer = new byte[1024];
            var received = await socket.ReceiveAsync(buffer, CancellationToken.None);
            replies.Add(JsonDocument.Parse(buffer.AsMemory(0, received.Count)).RootElement.Clone());
        }

        Assert.Equal([1L, 1L, 2L], replies.Select(r => r.GetProperty("stored").GetInt64()));
        Assert.StartsWith("too_large:", replies[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(WebSocketState.Open, socket.State);
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 2, Wait);
        Assert.Equal(["one", "three"], events.Select(e => e.Message!).Order());
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(1, metrics.Sum("edge_events_dropped_total", ("reason", "too_large")));
        AssertLedgerBalances(metrics);
    }

    [Fact]
    public async Task OverTcpAnOverLongFrameOrLineIsCutAtMaxMessageBytesMarkedTruncatedAndTheNextFrameIsWhole()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Listeners:syslog-tcp:MaxMessageBytes=1024"]);
        var longLine = "<13>Feb  5 17:32:18 web-1 app: " + new string('a', 3000);
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", edge.SyslogPort);
            var stream = client.GetStream();
            // Octet-counted: an announced 3,031-byte frame, then a normal one.
            foreach (var line in new[] { longLine, "<13>Feb  5 17:32:18 web-1 app: counted after" })
                await stream.WriteAsync(Encoding.ASCII.GetBytes($"{line.Length} {line}"));
        }
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", edge.SyslogPort);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"{longLine}\n<13>Feb  5 17:32:18 web-1 app: lf after\n"));
        }

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", 4, Wait);
        var cut = events.Where(e => e.Truncated == true).ToList();
        Assert.Equal(2, cut.Count);
        Assert.All(cut, e =>
        {
            Assert.Equal(longLine[..1024], e.Raw);
            Assert.Equal("partial", e.ParseStatus);
            Assert.Equal("web-1", e.Syslog!.Hostname);
        });
        Assert.Equal(["counted after", "lf after"], events.Where(e => e.Truncated is null).Select(e => e.Message!).Order());
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, metrics.Sum("edge_events_dropped_total", ("reason", "kafka_rejected")));
        AssertLedgerBalances(metrics);
    }

    [Fact]
    public async Task OverUdpAnOverLongDatagramIsCutAtMaxMessageBytesAndMarkedTruncated()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Listeners:syslog-udp:MaxMessageBytes=1024"]);
        var longLine = "<13>Feb  5 17:32:18 web-1 app: " + new string('u', 4000);
        using (var udp = new UdpClient())
        {
            await udp.SendAsync(Encoding.ASCII.GetBytes(longLine), "127.0.0.1", edge.SyslogPort);
            await udp.SendAsync("<13>Feb  5 17:32:18 web-1 app: short"u8.ToArray(), "127.0.0.1", edge.SyslogPort);
        }

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", 2, Wait);
        var cut = Assert.Single(events, e => e.Truncated == true);
        Assert.Equal(longLine[..1024], cut.Raw);
        Assert.Equal("partial", cut.ParseStatus);
        Assert.Equal("short", Assert.Single(events, e => e.Truncated is null).Message);
    }

    [Fact]
    public async Task ASyslogLineWhoseEnvelopeKafkaWouldRefuseIsCutToFitMarkedAndDelivered()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Producer:MessageMaxBytes=16384", "--Edge:Listeners:syslog-tcp:MaxMessageBytes=65536"]);
        // Control characters are escaped six to one in JSON, so the envelope of this 30 kB line is far over 16 kB.
        var line = "<13>Feb  5 17:32:18 web-1 app: " + string.Concat(Enumerable.Repeat("text\u0001", 6000));
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", edge.SyslogPort);
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"{line.Length} {line}"));
        }

        var record = Assert.Single(TopicReader.Read(pipeline.Kafka.BootstrapServers, "syslog", 1, Wait));
        Assert.True(record.Message.Value.Length < 16384, $"envelope of {record.Message.Value.Length} bytes");
        var e = Pipeline.Core.Envelope.EnvelopeCodec.Decode(record.Message.Value);
        Assert.True(e.Truncated);
        Assert.StartsWith(line[..100], e.Raw, StringComparison.Ordinal);
        Assert.True(e.Raw!.Length < line.Length);
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, metrics.Sum("edge_events_dropped_total", ("reason", "kafka_rejected")));
        Assert.Equal(0, metrics.Sum("edge_events_dropped_total", ("reason", "too_large")));
        AssertLedgerBalances(metrics);
    }

    [Fact]
    public async Task EmptyDatagramsAndFramesAreCountedInTheLedgerAsEmpty()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, partitions: 1);
        var edge = await pipeline.StartEdgeAsync();
        using (var udp = new UdpClient())
        {
            foreach (var datagram in new[] { ""u8.ToArray(), ""u8.ToArray(), " \r\n"u8.ToArray(), "\0"u8.ToArray(), "<13>Feb  5 17:32:18 web-1 app: real"u8.ToArray() })
                await udp.SendAsync(datagram, "127.0.0.1", edge.SyslogPort);
        }
        using (var client = new TcpClient())
        {
            await client.ConnectAsync("127.0.0.1", edge.SyslogPort);
            // An octet-counted frame of length 0, one of only spaces, then a real one.
            const string Real = "<13>Feb  5 17:32:18 web-1 app: tcp";
            await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes($"0 3    {Real.Length} {Real}"));
        }

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "syslog", 2, Wait);
        Assert.Equal(["real", "tcp"], events.Select(e => e.Message!).Order());
        var metrics = await Eventually.Until(() => MetricsText.ScrapeAsync(edge.Process),
            m => m.Sum("edge_events_dropped_total", ("reason", "empty")) >= 6, Wait, "empty datagrams and frames counted");
        Assert.Equal(4, metrics.Sum("edge_events_dropped_total", ("listener", "syslog-udp"), ("reason", "empty")));
        Assert.Equal(2, metrics.Sum("edge_events_dropped_total", ("listener", "syslog-tcp"), ("reason", "empty")));
        Assert.Equal(5, metrics.Sum("edge_events_received_total", ("listener", "syslog-udp")));
        AssertLedgerBalances(metrics);
    }

    private static void AssertLedgerBalances(MetricsText metrics)
    {
        foreach (var cell in metrics.LabelSets("edge_events_received_total"))
        {
            var (left, right) = metrics.Ledger(cell["listener"], cell["route"]);
            Assert.True(left == right, $"{cell["listener"]}/{cell["route"]}: received {left} != published + pending + dropped {right}");
        }
    }

    private static async Task<(int Status, JsonElement Body)> PostAsync(string url, string body)
    {
        var file = Path.GetTempFileName();
        await File.WriteAllTextAsync(file, body);
        try
        {
            var output = await Peers.RunAsync("curl", ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "--data-binary", "@" + file, url]);
            var lines = output.TrimEnd().Split('\n');
            var status = int.Parse(lines[^1], System.Globalization.CultureInfo.InvariantCulture);
            var text = string.Join('\n', lines[..^1]);
            return (status, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
        }
        finally
        {
            File.Delete(file);
        }
    }
}
