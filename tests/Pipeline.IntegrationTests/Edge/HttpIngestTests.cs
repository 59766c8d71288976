using System.IO.Compression;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Edge;

public sealed class HttpIngestTests
{
    private static readonly string[] TokenArgs =
    [
        "--Edge:Http:AllowAnonymous=false", "--Edge:Http:Tokens:0:Tenant=acme", "--Edge:Http:Tokens:0:Token=s3cret-acme",
        "--Edge:Http:MaxBodyBytes=65536",
    ];

    private static async Task<(int Status, JsonElement Body)> CurlAsync(string url, string dataFile, params string[] extra)
    {
        var output = await Peers.RunAsync("curl", ["-s", "-o", "-", "-w", "\n%{http_code}", "-X", "POST", "--data-binary", "@" + dataFile, .. extra, url]);
        var lines = output.TrimEnd().Split('\n');
        var status = int.Parse(lines[^1], System.Globalization.CultureInfo.InvariantCulture);
        var body = string.Join('\n', lines[..^1]);
        return (status, body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone());
    }

    private static string TempFile(byte[] content)
    {
        var path = Path.GetTempFileName();
        File.WriteAllBytes(path, content);
        return path;
    }

    [KafkaFact]
    public async Task NdjsonFromCurlIsAcceptedWithTheTokensTenantAndTheStreamHeaders()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(TokenArgs);
        var file = TempFile(Encoding.UTF8.GetBytes("""
            {"msg":"hi mom","level":"INFO","host":"web-1"}
            {"metric_name":"pdf_pages","metric_value":19,"metric_type":"counter"}
            {"metric_name":"profile_image_convert_time","metric_value":"0.9","metric_type":"timer"}

            """));
        try
        {
            var (status, body) = await CurlAsync($"{edge.HttpUrl}/v1/events", file, "-H", "Authorization: Bearer s3cret-acme", "-H", "X-Team: billing");
            Assert.Equal(200, status);
            Assert.Equal(3, body.GetProperty("accepted").GetInt32());
        }
        finally
        {
            File.Delete(file);
        }

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 1, TimeSpan.FromSeconds(30));
        var metrics = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("metrics"), 2, TimeSpan.FromSeconds(30));
        var log = Assert.Single(events);
        Assert.Equal(("event", "acme", "hi mom", "http"), (log.Kind, log.Tenant, log.Message, log.Source.Transport));
        Assert.Equal("web-1", log.Payload!.Value.GetProperty("host").GetString());
        Assert.Equal("billing", log.Stream!.Headers!["x-team"]);
        Assert.False(log.Stream.Headers.ContainsKey("authorization"), "credentials are never stored with a stream");
        Assert.Equal([("pdf_pages", 19.0, "counter"), ("profile_image_convert_time", 0.9, "timer")],
            metrics.Select(m => (m.Metric!.Name, m.Metric.Value, m.Metric.Type)).OrderBy(m => m.Name));
        Assert.All(metrics, m => Assert.Equal("metric", m.Kind));
    }

    [KafkaFact]
    public async Task EventFieldsAreReadWhateverTheirCaseEscapesOrOrderAndThePayloadIsKeptAsItCame()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1, extraTopics: ["errs", "billing"]);
        var edge = await pipeline.StartEdgeAsync([
            "--Edge:Routes:0:Name=errs", "--Edge:Routes:0:Match:Severity:0=err", "--Edge:Routes:0:Topic=errs",
            "--Edge:Routes:1:Name=billing", "--Edge:Routes:1:Match:App:0=billing-api", "--Edge:Routes:1:Topic=billing"]);
        // An escaped property name, escaped values, upper-case kinds and levels, and the message under "msg" or "message".
        var file = TempFile(Encoding.UTF8.GetBytes("""
            {"m\u0073g":"escaped name","level":"ERROR","kind":"LOG","host":"db-1"}
            {  "message" : "tab\there \u00e9",  "app":"billing\u002dapi", "host":"db-\u0032", "type":"Trace", "n":[1, 2]  }

            """));
        try
        {
            var (status, body) = await CurlAsync($"{edge.HttpUrl}/v1/events", file);
            Assert.Equal((200, 2), (status, body.GetProperty("accepted").GetInt32()));
        }
        finally
        {
            File.Delete(file);
        }

        var error = Assert.Single(TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "errs", 1, TimeSpan.FromSeconds(30)));
        Assert.Equal(("log", "escaped name"), (error.Kind, error.Message));
        var billing = Assert.Single(TopicReader.Read(pipeline.Kafka.BootstrapServers, "billing", 1, TimeSpan.FromSeconds(30)));
        Assert.Equal("db-2", Encoding.UTF8.GetString(billing.Message.Key!));
        using var envelope = JsonDocument.Parse(billing.Message.Value);
        Assert.Equal("trace", envelope.RootElement.GetProperty("kind").GetString());
        Assert.Equal("tab\there \u00e9", envelope.RootElement.GetProperty("message").GetString());
        // The payload is the event's own text, spacing and escapes included.
        Assert.Equal("""{  "message" : "tab\there \u00e9",  "app":"billing\u002dapi", "host":"db-\u0032", "type":"Trace", "n":[1, 2]  }""",
            envelope.RootElement.GetProperty("payload").GetRawText());
    }

    [KafkaFact]
    public async Task AGzipBodyAndAJsonArrayAreAccepted()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        using var compressed = new MemoryStream();
        await using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 100).Select(i => $"{{\"seq\":{i}}}"))));
        var gz = TempFile(compressed.ToArray());
        var array = TempFile("""[{"seq":100},{"seq":101}]"""u8.ToArray());
        try
        {
            var (status, body) = await CurlAsync($"{edge.HttpUrl}/v1/events", gz, "-H", "Content-Encoding: gzip");
            Assert.Equal((200, 100), (status, body.GetProperty("accepted").GetInt32()));
            (status, body) = await CurlAsync($"{edge.HttpUrl}/v1/events", array, "-H", "Content-Type: application/json");
            Assert.Equal((200, 2), (status, body.GetProperty("accepted").GetInt32()));
        }
        finally
        {
            File.Delete(gz);
            File.Delete(array);
        }
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 102, TimeSpan.FromSeconds(30));
        Assert.Equal(Enumerable.Range(0, 102), events.Select(e => e.Payload!.Value.GetProperty("seq").GetInt32()).Order());
    }

    [KafkaFact]
    public async Task AMissingOrWrongTokenIsRefusedWith401AndNothingIsKept()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(TokenArgs);
        var file = TempFile("""{"msg":"should not be kept"}"""u8.ToArray());
        try
        {
            Assert.Equal(401, (await CurlAsync($"{edge.HttpUrl}/v1/events", file, "-H", "Authorization: Bearer wrong")).Status);
            Assert.Equal(401, (await CurlAsync($"{edge.HttpUrl}/v1/events", file)).Status);
        }
        finally
        {
            File.Delete(file);
        }
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, metrics.Sum("edge_events_received_total"));
    }

    [KafkaFact]
    public async Task ABadLineIsNamedByItsNumberAndTheGoodLinesAreKept()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        var file = TempFile(Encoding.UTF8.GetBytes("{\"seq\":1}\n{\"seq\":2}\n{\"seq\": oops}\n[1,2]\n{\"seq\":5}\n"));
        try
        {
            var (status, body) = await CurlAsync($"{edge.HttpUrl}/v1/events", file);
            Assert.Equal(200, status);
            Assert.Equal(3, body.GetProperty("accepted").GetInt32());
            var errors = body.GetProperty("errors").EnumerateArray().Select(e => (e.GetProperty("line").GetInt32(), e.GetProperty("error").GetString()!)).ToList();
            Assert.Equal([3, 4], errors.Select(e => e.Item1));
            Assert.StartsWith("not JSON", errors[0].Item2);
            Assert.Equal("an event must be a JSON object", errors[1].Item2);
        }
        finally
        {
            File.Delete(file);
        }
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 3, TimeSpan.FromSeconds(30));
        Assert.Equal([1, 2, 5], events.Select(e => e.Payload!.Value.GetProperty("seq").GetInt32()).Order());
    }

    [KafkaFact]
    public async Task ABodyOverTheLimitIs413AndNothingOfItIsKept()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Http:MaxBodyBytes=65536"]);
        var file = TempFile(Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Range(0, 5000).Select(i => $"{{\"seq\":{i},\"pad\":\"{new string('x', 20)}\"}}"))));
        using var bomb = new MemoryStream();
        await using (var gzip = new GZipStream(bomb, CompressionLevel.Optimal, leaveOpen: true))
            await gzip.WriteAsync(Encoding.UTF8.GetBytes(string.Join('\n', Enumerable.Repeat("{\"a\":1}", 100_000))));
        var zipped = TempFile(bomb.ToArray());
        try
        {
            var (status, body) = await CurlAsync($"{edge.HttpUrl}/v1/events", file);
            Assert.Equal(413, status);
            Assert.Contains("65536", body.GetProperty("error").GetString());
            // Small on the wire, too large once decoded.
            Assert.True(new FileInfo(zipped).Length < 65536);
            Assert.Equal(413, (await CurlAsync($"{edge.HttpUrl}/v1/events", zipped, "-H", "Content-Encoding: gzip")).Status);
        }
        finally
        {
            File.Delete(file);
            File.Delete(zipped);
        }
        Assert.Equal(0, (await MetricsText.ScrapeAsync(edge.Process)).Sum("edge_events_received_total"));
    }

    [KafkaFact]
    public async Task SyslogLinesPostedOverHttpAreParsedLikeAnyOther()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        var file = TempFile("<13>Feb  5 17:32:18 web-1 sshd[4242]: Accepted password for alice\n<34>1 2003-10-11T22:14:15.003Z db-1 su - - - su failed\n"u8.ToArray());
        try
        {
            var (status, body) = await CurlAsync($"{edge.HttpUrl}/v1/syslog?ack=kafka", file, "-H", "Content-Type: text/plain");
            Assert.Equal(200, status);
            Assert.Equal(2, body.GetProperty("accepted").GetInt32());
            Assert.Equal(2, body.GetProperty("acknowledged").GetInt32());
        }
        finally
        {
            File.Delete(file);
        }
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("syslog"), 2, TimeSpan.FromSeconds(30));
        Assert.Equal(["db-1", "web-1"], events.Select(e => e.Syslog!.Hostname!).Order());
        Assert.All(events, e => Assert.Equal("http", e.Source.Transport));
    }

    [KafkaFact]
    public async Task TheWebSocketStreamAnswersEachMessageWithTheRunningCountStored()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("User-Agent", "telemetry-test");
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{edge.HttpPort}/v1/stream"), CancellationToken.None);
        var replies = new List<long>();
        var buffer = new byte[256];
        foreach (var message in new[] { """{"time":"2024-07-03T15:16:55Z","level":"INFO","msg":"hi mom"}""", "plain text is kept too", """{"msg":"third"}""" })
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
            var reply = await socket.ReceiveAsync(buffer, CancellationToken.None);
            replies.Add(JsonDocument.Parse(buffer.AsMemory(0, reply.Count)).RootElement.GetProperty("stored").GetInt64());
        }
        // An empty binary message hangs up, as the seed's server does.
        await socket.SendAsync(Array.Empty<byte>(), WebSocketMessageType.Binary, true, CancellationToken.None);
        var closing = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(WebSocketMessageType.Close, closing.MessageType);
        Assert.Equal([1, 2, 3], replies);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 3, TimeSpan.FromSeconds(30));
        Assert.Equal(["hi mom", "plain text is kept too", "third"], events.Select(e => e.Message!).Order());
        Assert.All(events, e =>
        {
            Assert.Equal("websocket", e.Source.Transport);
            Assert.Equal("telemetry-test", e.Stream!.Headers!["user-agent"]);
        });
        Assert.Single(events.Select(e => e.Stream!.Id).Distinct());
    }

    [KafkaFact]
    public async Task TheWebSocketStreamTakesATokenInTheAuthorizationHeaderOrTheQueryStringAndKeepsItOutOfStoredHeadersAndLogs()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        // Debug: whatever the edge logs about a request, the token must not be in it.
        var edge = await pipeline.StartEdgeAsync(TokenArgs, new Dictionary<string, string> { ["Logging__LogLevel__Default"] = "Debug" });
        var stream = $"ws://127.0.0.1:{edge.HttpPort}/v1/stream";

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await RefusedAsync(new Uri(stream), null));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await RefusedAsync(new Uri(stream), "Bearer not-the-token"));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, await RefusedAsync(new Uri(stream + "?access_token=not-the-token"), null));

        await SendOneAsync(new Uri(stream), "Bearer s3cret-acme", "by header");
        await SendOneAsync(new Uri(stream + "?source=browser&access_token=s3cret-acme"), null, "by query");

        var records = TopicReader.Read(pipeline.Kafka.BootstrapServers, pipeline.Topic("events"), 2, TimeSpan.FromSeconds(30));
        var events = records.Select(r => Pipeline.Core.Envelope.EnvelopeCodec.Decode(r.Message.Value)).ToList();
        Assert.Equal(["by header", "by query"], events.Select(e => e.Message!).Order());
        Assert.All(events, e =>
        {
            Assert.Equal(("acme", "websocket"), (e.Tenant, e.Source.Transport));
            Assert.False(e.Stream!.Headers!.ContainsKey("authorization"));
        });
        Assert.All(records, r => Assert.DoesNotContain("s3cret-acme", Encoding.UTF8.GetString(r.Message.Value), StringComparison.Ordinal));
        await edge.Process.StopAsync();
        Assert.DoesNotContain("s3cret-acme", edge.Process.Output, StringComparison.Ordinal);
    }

    private static async Task<System.Net.HttpStatusCode> RefusedAsync(Uri uri, string? authorization)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (authorization is not null) socket.Options.SetRequestHeader("Authorization", authorization);
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(uri, CancellationToken.None));
        return socket.HttpStatusCode;
    }

    private static async Task SendOneAsync(Uri uri, string? authorization, string message)
    {
        using var socket = new ClientWebSocket();
        if (authorization is not null) socket.Options.SetRequestHeader("Authorization", authorization);
        await socket.ConnectAsync(uri, CancellationToken.None);
        await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, CancellationToken.None);
        var buffer = new byte[256];
        var reply = await socket.ReceiveAsync(buffer, CancellationToken.None);
        Assert.Equal(1, JsonDocument.Parse(buffer.AsMemory(0, reply.Count)).RootElement.GetProperty("stored").GetInt64());
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None);
    }
}
