using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Exporter;
using OpenTelemetry.Logs;
using OpenTelemetry.Resources;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Tests.Shared;
using static Pipeline.Tests.Shared.OtlpRequests;

namespace Pipeline.IntegrationTests.Edge;

public sealed class OtlpIngestTests
{
    /// <summary>An answer as curl saw it: status, headers, body bytes.</summary>
    private sealed record Answer(int Status, string Headers, byte[] Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();
    }

    private static async Task<Answer> PostAsync(string url, byte[] body, params string[] extra)
    {
        var input = Path.GetTempFileName();
        var output = Path.GetTempFileName();
        var headers = Path.GetTempFileName();
        try
        {
            await File.WriteAllBytesAsync(input, body);
            var status = await Peers.RunAsync("curl", ["-s", "-o", output, "-D", headers, "-w", "%{http_code}", "-X", "POST", "--data-binary", "@" + input, .. extra, url]);
            return new Answer(int.Parse(status, System.Globalization.CultureInfo.InvariantCulture), await File.ReadAllTextAsync(headers), await File.ReadAllBytesAsync(output));
        }
        finally
        {
            File.Delete(input);
            File.Delete(output);
            File.Delete(headers);
        }
    }

    private static readonly string[] Protobuf = ["-H", "Content-Type: application/x-protobuf"];
    private static readonly string[] Json = ["-H", "Content-Type: application/json"];

    /// <summary>A <c>google.rpc.Status</c> or <c>ExportLogsPartialSuccess</c>: its varint field 1 and string field 2.</summary>
    private static (long Number, string Text) NumberAndText(byte[] message)
    {
        var input = new CodedInputStream(message);
        long number = 0;
        var text = "";
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 1: number = input.ReadInt64(); break;
                case 2: text = input.ReadString(); break;
                default: input.SkipLastField(); break;
            }
        }
        return (number, text);
    }

    /// <summary>The <c>partial_success</c> of an <c>ExportLogsServiceResponse</c> (field 1), or nothing.</summary>
    private static (long Rejected, string Message)? PartialSuccess(byte[] response)
    {
        var input = new CodedInputStream(response);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == 1) return NumberAndText(input.ReadBytes().ToByteArray());
            input.SkipLastField();
        }
        return null;
    }

    [Fact]
    public async Task LogsFromTheOpenTelemetrySdkOverProtobufArriveInKafkaWithTheirAttributesScopesResourceAndTraceIds()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var otlpPort = FreePort.Next();
        var edge = await pipeline.StartEdgeAsync([.. TestTenant.EdgeArgs, "--otlp", $"127.0.0.1:{otlpPort}"]);
        ActivityTraceId traceId;
        ActivitySpanId spanId;
        using (var factory = LoggerFactory.Create(logging => logging.AddOpenTelemetry(otel =>
        {
            otel.SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("checkout", serviceVersion: "2.1.0")
                .AddAttributes([new("host.name", "web-7"), new("deployment.environment", "test")]));
            otel.IncludeScopes = true;
            otel.IncludeFormattedMessage = true;
            otel.AddOtlpExporter(exporter =>
            {
                exporter.Endpoint = new Uri($"http://127.0.0.1:{otlpPort}/v1/logs");
                exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                exporter.Headers = "Authorization=Bearer s3cret-acme";
            });
        })))
        {
            var logger = factory.CreateLogger("Checkout.Orders");
            using var activity = new Activity("checkout").Start();
            (traceId, spanId) = (activity.TraceId, activity.SpanId);
            var scope = new Dictionary<string, object> { ["request.id"] = "r-9" };
            using (logger.BeginScope(scope))
                ShopLog.OrderFailed(logger, 42, 3);
            ShopLog.Plain(logger, "info");
        }

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, events.Count);
        var warning = Assert.Single(events, e => e.Message == "Order 42 failed after 3 attempts");
        Assert.Equal(("log", "acme", "otlp"), (warning.Kind, warning.Tenant, warning.Source.Transport));
        var payload = warning.Payload!.Value;
        Assert.Equal((13, "Warning"), (payload.GetProperty("severity_number").GetInt32(), payload.GetProperty("severity_text").GetString()));
        var attributes = payload.GetProperty("attributes");
        Assert.Equal(42, attributes.GetProperty("OrderId").GetInt32());
        Assert.Equal(3, attributes.GetProperty("Attempts").GetInt32());
        Assert.Equal("Order {OrderId} failed after {Attempts} attempts", attributes.GetProperty("{OriginalFormat}").GetString());
        Assert.Equal("r-9", attributes.GetProperty("request.id").GetString());
        Assert.Equal(traceId.ToHexString(), payload.GetProperty("trace_id").GetString());
        Assert.Equal(spanId.ToHexString(), payload.GetProperty("span_id").GetString());
        Assert.Equal("Checkout.Orders", payload.GetProperty("scope").GetProperty("name").GetString());
        var resource = payload.GetProperty("resource").GetProperty("attributes");
        Assert.Equal(("checkout", "2.1.0", "web-7"),
            (resource.GetProperty("service.name").GetString(), resource.GetProperty("service.version").GetString(), resource.GetProperty("host.name").GetString()));
        Assert.True(payload.TryGetProperty("time", out _));
        // The request's headers travel with it, credentials left out.
        Assert.False(warning.Stream!.Headers!.ContainsKey("authorization"));

        var keyed = TopicReader.Read(pipeline.Kafka.BootstrapServers, "events", 2, TimeSpan.FromSeconds(30));
        Assert.All(keyed, r => Assert.Equal("web-7", Encoding.UTF8.GetString(r.Message.Key!)));
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(2, metrics.Sum("edge_events_received_total", ("listener", "otlp")));
        Assert.Equal(2, metrics.Sum("edge_otlp_log_records_total", ("outcome", "accepted")));
        Assert.Equal(1, metrics.Sum("edge_otlp_requests_total", ("signal", "logs"), ("encoding", "protobuf"), ("code", "200")));
    }

    [Fact]
    public async Task OtlpJsonFromCurlIsAcceptedGzippedOrNotAndAnsweredInJson()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync();
        var body = Encoding.UTF8.GetBytes("""
            {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cron"}}]},
              "scopeLogs":[{"scope":{"name":"nightly"},"logRecords":[
                {"timeUnixNano":"1700000000000000000","severityNumber":9,"body":{"stringValue":"backup done"},
                 "attributes":[{"key":"files","value":{"intValue":"1200"}},{"key":"tags","value":{"arrayValue":{"values":[{"stringValue":"db"}]}}}],
                 "traceId":"5B8EFFF798038103D269B633813FC60C","spanId":"EEE19B7EC3C1B174"}]}]}]}
            """);
        var plain = await PostAsync($"{edge.HttpUrl}/v1/logs", body, Json);
        Assert.Equal(200, plain.Status);
        Assert.Contains("Content-Type: application/json", plain.Headers, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("{}", Encoding.UTF8.GetString(plain.Body));

        using var zipped = new MemoryStream();
        await using (var gzip = new GZipStream(zipped, CompressionLevel.Fastest, leaveOpen: true)) await gzip.WriteAsync(body);
        Assert.Equal(200, (await PostAsync($"{edge.HttpUrl}/v1/logs", zipped.ToArray(), [.. Json, "-H", "Content-Encoding: gzip"])).Status);

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 2, TimeSpan.FromSeconds(30));
        Assert.Equal(2, events.Count);
        Assert.All(events, e =>
        {
            Assert.Equal(("log", "backup done"), (e.Kind, e.Message));
            var payload = e.Payload!.Value;
            Assert.Equal(1200, payload.GetProperty("attributes").GetProperty("files").GetInt64());
            Assert.Equal("db", payload.GetProperty("attributes").GetProperty("tags")[0].GetString());
            Assert.Equal("5b8efff798038103d269b633813fc60c", payload.GetProperty("trace_id").GetString());
            Assert.Equal("2023-11-14T22:13:20.000000000Z", payload.GetProperty("time").GetString());
        });
    }

    [Fact]
    public async Task BadRequestsAreAnsweredAsOtlpSaysAndNothingOfThemIsKept()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync([.. TestTenant.EdgeArgs, "--Edge:Http:MaxBodyBytes=65536"]);
        string[] token = ["-H", "Authorization: Bearer s3cret-acme"];
        var url = $"{edge.HttpUrl}/v1/logs";

        var malformed = await PostAsync(url, [0x0A, 0x7F, 0x01, 0x02], [.. Protobuf, .. token]);
        Assert.Equal(400, malformed.Status);
        Assert.Contains("Content-Type: application/x-protobuf", malformed.Headers, StringComparison.OrdinalIgnoreCase);
        var (code, message) = NumberAndText(malformed.Body);
        Assert.Equal(3, code);
        Assert.Contains("not an OTLP ExportLogsServiceRequest", message);

        var notJson = await PostAsync(url, "{\"resourceLogs\": [ oops"u8.ToArray(), [.. Json, .. token]);
        Assert.Equal(400, notJson.Status);
        Assert.Contains("not JSON", notJson.Json.GetProperty("message").GetString());

        var wrongType = await PostAsync(url, "hello"u8.ToArray(), ["-H", "Content-Type: text/plain", .. token]);
        Assert.Equal(415, wrongType.Status);
        Assert.Contains("application/x-protobuf", wrongType.Json.GetProperty("message").GetString());
        Assert.Equal(415, (await PostAsync(url, Batch(0, 1), [.. Protobuf, "-H", "Content-Encoding: br", .. token])).Status);

        var oversized = await PostAsync(url, Batch(0, 2000), [.. Protobuf, .. token]);
        Assert.Equal(413, oversized.Status);
        Assert.Contains("65536", NumberAndText(oversized.Body).Text);

        var anonymous = await PostAsync(url, Batch(0, 1), Protobuf);
        Assert.Equal(401, anonymous.Status);
        Assert.Contains("WWW-Authenticate: Bearer", anonymous.Headers, StringComparison.OrdinalIgnoreCase);

        var traces = await PostAsync($"{edge.HttpUrl}/v1/traces", [], [.. Protobuf, .. token]);
        Assert.Equal(404, traces.Status);
        Assert.Contains("logs only", NumberAndText(traces.Body).Text);
        Assert.Equal(404, (await PostAsync($"{edge.HttpUrl}/v1/metrics", "{}"u8.ToArray(), [.. Json, .. token])).Status);

        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(0, metrics.Sum("edge_events_received_total"));
        Assert.Equal(1, metrics.Sum("edge_otlp_requests_total", ("signal", "traces"), ("code", "404")));
    }

    [Fact]
    public async Task ARecordThatCannotBeKeptIsRejectedInPartialSuccessAndTheOthersArrive()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Http:MaxEventBytes=4096"]);
        var notUtf8 = new ProtoMessage().Message(5, new ProtoMessage().Bytes(1, [0x66, 0x6F, 0xFF]));
        var huge = Record(new string('x', 8000));
        var request = Request(Resource(("service.name", "checkout")), Scope("s", "1"), Record("first"), notUtf8, huge, Record("last"));

        var answer = await PostAsync($"{edge.HttpUrl}/v1/logs", request, Protobuf);

        Assert.Equal(200, answer.Status);
        var (rejected, message) = PartialSuccess(answer.Body) ?? throw new InvalidOperationException("no partial_success");
        Assert.Equal(2, rejected);
        Assert.Contains("UTF-8", message);
        var json = await PostAsync($"{edge.HttpUrl}/v1/logs",
            """{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"ok"}},{"timeUnixNano":"soon"}]}]}]}"""u8.ToArray(), Json);
        Assert.Equal(200, json.Status);
        Assert.Equal("1", json.Json.GetProperty("partialSuccess").GetProperty("rejectedLogRecords").GetString());

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 3, TimeSpan.FromSeconds(30));
        Assert.Equal(["first", "last", "ok"], events.Select(e => e.Message!).Order());
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.Equal(3, metrics.Sum("edge_otlp_log_records_total", ("outcome", "rejected")));
        Assert.Equal(1, metrics.Sum("edge_events_dropped_total", ("reason", "too_large")));
    }

    [Fact]
    public async Task WhenTheBuffersAreFullTheAnswerIs503WithRetryAfterAndEveryRecordTakenBeforeArrives()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        var edge = await pipeline.StartEdgeAsync(["--Edge:Memory:MaxEvents=100", "--Edge:Spool:MaxBytes=1048576", "--Edge:Spool:SegmentBytes=65536"]);
        pipeline.Kafka.SetAllBrokersDown();
        var taken = new List<int>();
        Answer? busy = null;
        // Each request carries 200 records of about 1 KiB: the 1 MiB spool fills within a few of them.
        for (var request = 0; request < 40 && busy is null; request++)
        {
            var records = Enumerable.Range(request * 200, 200).Select(n => Record($"record {n} {new string('x', 900)}", attributes: ("seq", AnyInt(n)))).ToArray();
            var answer = await PostAsync($"{edge.HttpUrl}/v1/logs", Request(Resource(("service.name", "load")), Scope("s", "1"), records), Protobuf);
            if (answer.Status == 503) busy = answer;
            else
            {
                Assert.Equal(200, answer.Status);
                taken.AddRange(Enumerable.Range(request * 200, 200));
            }
        }
        Assert.NotNull(busy);
        Assert.Contains("Retry-After: 5", busy.Headers, StringComparison.OrdinalIgnoreCase);
        var (code, message) = NumberAndText(busy.Body);
        Assert.Equal(14, code);
        Assert.Contains("buffers are full", message);

        pipeline.Kafka.SetAllBrokersUp();
        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", taken.Count, TimeSpan.FromSeconds(60));
        var arrived = events.Select(e => e.Payload!.Value.GetProperty("attributes").GetProperty("seq").GetInt32()).ToHashSet();
        Assert.Superset(taken.ToHashSet(), arrived);
    }

    [EmbeddedKafkaFact("slows the brokers")]
    public async Task WhileKafkaAcknowledgesSlowerThanRecordsComeARequestWaitsForRoomAndEachRecordArrivesOnce()
    {
        await using var pipeline = PipelineUnderTest.Start(brokers: 1);
        // Kafka keeps acknowledging, far slower than a request's records come.
        var edge = await SlowKafka.StartEdgeAsync(pipeline);
        for (var request = 0; request < 4; request++)
        {
            var records = Enumerable.Range(request * 1000, 1000).Select(n => Record($"record {n}", attributes: ("seq", AnyInt(n)))).ToArray();
            var answer = await PostAsync($"{edge.HttpUrl}/v1/logs", Request(Resource(("service.name", "load")), Scope("s", "1"), records), Protobuf);
            Assert.Equal(200, answer.Status);
        }

        var events = TopicReader.ReadEvents(pipeline.Kafka.BootstrapServers, "events", 4000, TimeSpan.FromSeconds(60));
        Assert.Equal(Enumerable.Range(0, 4000), events.Select(e => e.Payload!.Value.GetProperty("attributes").GetProperty("seq").GetInt32()).Order());
        var metrics = await MetricsText.ScrapeAsync(edge.Process);
        Assert.True(metrics.Sum("edge_http_backpressure_waits_total") > 0, "the requests should have waited for room");
        Assert.Equal(0, metrics.Sum("edge_spool_appended_records_total"));
        Assert.Equal(4000, metrics.Sum("edge_otlp_log_records_total", ("outcome", "accepted")));
        Assert.Equal(4000, TopicReader.EndOffsetSum(pipeline.Kafka.BootstrapServers, "events", pipeline.Partitions("events")));
    }
}
