using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using Pipeline.Consumers.Postgres;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Scrape.Exposition;
using Pipeline.Edge.Sources.Syslog;
using Pipeline.Kafka.Consuming;
using Pipeline.UnitTests.Edge.Scrape;

namespace Pipeline.UnitTests.Core;

/// <summary>
/// Envelopes written by the edge's own writer — every kind it writes, each optional field present in one and absent
/// in another, tags, a stream's headers, fields a reader does not know — read by every reader of the envelope: the
/// codec, the NOC's rows (<see cref="EventRow"/>), top-k's scanner (<see cref="EnvelopeScanner"/>) and the SIEM's
/// one-pass reader (<see cref="Pipeline.Consumers.Siem.Normalising.EnvelopeReader"/>). The codec
/// must give back what the writer was given, and the other readers what the codec reads, field by field.
/// </summary>
public sealed class EnvelopeReadersAgreeTests
{
    private static readonly DateTimeOffset Received = new(2026, 3, 14, 9, 26, 53, 589, TimeSpan.Zero);
    private const string SenderId = "01HZY3W9N8RXT4G6Q2V5K7M1PB";

    /// <summary>The payload paths top-k is asked for (configured as <c>payload.http.path</c> and so on).</summary>
    private static readonly string[][] PayloadPaths = [["http", "path"], ["http", "status"], ["http", "ok"], ["user", "id"], ["missing"]];

    public static TheoryData<string> Cases => [.. Written.Keys];

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryReaderReadsEveryFieldAsTheCodecDoesAndTheCodecAsTheEdgeWroteIt(string name)
    {
        var (bytes, expect) = Written[name]();
        var e = EnvelopeCodec.Decode(bytes);
        expect(e);
        RowAgrees(e, EventRow.From(new ConsumedRecord("syslog", 0, 0, null, bytes, Received)));
        ScanAgrees(e, bytes);
        SiemAgrees(e, bytes);
        // The codec writes back the fields it read under the names it read them by.
        Assert.Equal(Names(JsonDocument.Parse(bytes).RootElement, withUnknown: false), Names(JsonDocument.Parse(EnvelopeCodec.Encode(e)).RootElement, withUnknown: false));
    }

    [Fact]
    public void TheWriterWritesOnlyTheDefinedNamesAndTheseCasesWriteEveryOneOfThem()
    {
        var written = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, write) in Written)
        {
            if (name.Contains("unknown", StringComparison.Ordinal)) continue;
            var names = Names(JsonDocument.Parse(write().Bytes).RootElement, withUnknown: true);
            Assert.Subset(Defined, names);
            written.UnionWith(names);
        }
        Assert.Equal(Defined.Order(StringComparer.Ordinal), written.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheCodecNamesEveryPropertyFromTheDefinition()
    {
        var full = new TelemetryEvent
        {
            Id = SenderId, ReceivedAt = Received, Kind = EventKinds.Metric, Tenant = "t", Tags = new() { ["a"] = "b" }, SampleRate = 2,
            Source = new EventSource { Transport = "tcp", Ip = "192.0.2.1", Port = 1, Edge = "e" },
            Syslog = new SyslogFields
            {
                Facility = 1, Severity = 2, Version = 1, Timestamp = Received, Hostname = "h", AppName = "a", Procid = "p", Msgid = "m",
                StructuredData = new() { ["sd@1"] = new() { ["k"] = "v" } }, Rfc = "5424",
            },
            Message = "m", Payload = JsonDocument.Parse("{}").RootElement, Stream = new StreamInfo { Id = "s", Headers = new() { ["h"] = "v" } },
            Raw = "r", RawBase64 = "cg==", ParseStatus = "ok", ParseError = "x", Truncated = true,
            Metric = new MetricFields { Name = "n", Value = 1, Type = "gauge", Family = "f", Unit = "u", Labels = new() { ["l"] = "v" }, Timestamp = Received, Delta = 1 },
        };
        Assert.Equal(Defined.Order(StringComparer.Ordinal), Names(JsonDocument.Parse(EnvelopeCodec.Encode(full)).RootElement, withUnknown: true).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void TheNamesMadeOnceForWritersAndReadersAreTheDefinitionsOwnEveryOne()
    {
        foreach (var (fields, json, utf8) in new[]
        {
            (typeof(EnvelopeFields), typeof(EnvelopeJson), typeof(EnvelopeUtf8)),
            (typeof(EnvelopeFields.OfSource), typeof(EnvelopeJson.OfSource), typeof(EnvelopeUtf8.OfSource)),
            (typeof(EnvelopeFields.OfSyslog), typeof(EnvelopeJson.OfSyslog), typeof(EnvelopeUtf8.OfSyslog)),
            (typeof(EnvelopeFields.OfStream), typeof(EnvelopeJson.OfStream), typeof(EnvelopeUtf8.OfStream)),
            (typeof(EnvelopeFields.OfMetric), typeof(EnvelopeJson.OfMetric), typeof(EnvelopeUtf8.OfMetric)),
        })
        {
            var defined = fields.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
                .ToDictionary(f => f.Name, f => (string)f.GetRawConstantValue()!);
            var encoded = json.GetFields(BindingFlags.Public | BindingFlags.Static).ToDictionary(f => f.Name, f => ((JsonEncodedText)f.GetValue(null)!).Value);
            Assert.Equal(defined, encoded);
            // The span properties return these arrays (a span cannot be read through reflection).
            var bytes = utf8.GetFields(BindingFlags.NonPublic | BindingFlags.Static)
                .ToDictionary(f => f.Name[..^"Bytes".Length], f => Encoding.UTF8.GetString((byte[])f.GetValue(null)!));
            Assert.Equal(defined, bytes);
            Assert.Equal(defined.Keys.Order(), utf8.GetProperties(BindingFlags.Public | BindingFlags.Static).Select(p => p.Name).Order());
        }
    }

    /// <summary>Each case: the envelope the writer made, and what the codec must read from it.</summary>
    private static readonly Dictionary<string, Func<(byte[] Bytes, Action<TelemetryEvent> Expect)>> Written = new()
    {
        ["an RFC 5424 line over TCP with every field, tags, a tenant and a stream"] = () =>
        {
            const string line = "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"App\"] An \"event\" ünïcode";
            var origin = new IngestOrigin(Listener("tcp", new() { ["rack"] = "r1", ["dc"] = "eu" }, tenant: "listener-tenant"), new IPEndPoint(IPAddress.Parse("192.0.2.7"), 5140),
                new StreamMarkup("conn-9", [new("user-agent", "rsyslog"), new("x-trace", "a\"b")], tenant: "acme"));
            return (Syslog(line, origin, sampleRate: 4), e =>
            {
                Assert.Equal((EventKinds.Log, "acme", 4), (e.Kind, e.Tenant, e.SampleRate));
                Assert.Equal(Received, e.ReceivedAt);
                Assert.Equal(26, e.Id.Length);
                Assert.Equal(("tcp", "192.0.2.7", 5140, "edge-1"), (e.Source.Transport, e.Source.Ip, e.Source.Port, e.Source.Edge));
                Assert.Equal(new Dictionary<string, string> { ["dc"] = "eu", ["rack"] = "r1" }, e.Tags);
                var s = e.Syslog!;
                Assert.Equal((20, 5, 1, "5424"), (s.Facility, s.Severity, s.Version, s.Rfc));
                Assert.Equal(new DateTimeOffset(2003, 10, 11, 22, 14, 15, 3, TimeSpan.Zero), s.Timestamp);
                Assert.Equal(("mymachine.example.com", "evntslog", "1234", "ID47"), (s.Hostname, s.AppName, s.Procid, s.Msgid));
                Assert.Equal(new Dictionary<string, string> { ["iut"] = "3", ["eventSource"] = "App" }, s.StructuredData!["exampleSDID@32473"]);
                Assert.Equal("An \"event\" ünïcode", e.Message);
                Assert.Equal((line, "ok"), (e.Raw, e.ParseStatus));
                Assert.Null(e.ParseError);
                Assert.Null(e.RawBase64);
                Assert.Null(e.Truncated);
                Assert.Equal("conn-9", e.Stream!.Id);
                Assert.Equal(new Dictionary<string, string> { ["user-agent"] = "rsyslog", ["x-trace"] = "a\"b" }, e.Stream.Headers);
                Assert.Null(e.Payload);
                Assert.Null(e.Metric);
            });
        },
        ["a BSD line over UDP without peer, tags, tenant, stream, version, procid, msgid or structured data"] = () =>
        {
            var origin = new IngestOrigin(Listener("udp", [], tenant: null), null, null);
            return (Syslog("<13>Oct 11 22:14:15 host su: x", origin), e =>
            {
                Assert.Equal(("udp", null, null, "edge-1"), (e.Source.Transport, e.Source.Ip, e.Source.Port, e.Source.Edge));
                Assert.Null(e.Tenant);
                Assert.Null(e.Tags);
                Assert.Null(e.Stream);
                Assert.Equal(1, e.SampleRate);
                var s = e.Syslog!;
                Assert.Equal((1, 5, null, "3164"), (s.Facility, s.Severity, s.Version, s.Rfc));
                Assert.Equal(("host", "su", null, null, null), (s.Hostname, s.AppName, s.Procid, s.Msgid, s.StructuredData));
                Assert.Equal((10, 11, 22, 14, 15), (s.Timestamp!.Value.Month, s.Timestamp.Value.Day, s.Timestamp.Value.Hour, s.Timestamp.Value.Minute, s.Timestamp.Value.Second));
                Assert.Equal(("x", "ok"), (e.Message, e.ParseStatus));
            });
        },
        ["a line without a PRI"] = () => (Syslog("Oct 11 22:14:15 host su: x", TcpOrigin()), e =>
        {
            Assert.Null(e.Syslog!.Facility);
            Assert.Null(e.Syslog.Severity);
            Assert.Equal("host", e.Syslog.Hostname);
            Assert.Equal(("partial", SyslogParseErrors.MissingPri), (e.ParseStatus, e.ParseError));
        }),
        ["bare text that is not valid UTF-8, cut at its size limit"] = () =>
        {
            byte[] line = [.. "bare text "u8, 0xFF, 0xFE, .. " cut here"u8];
            return (Syslog(line, TcpOrigin(), truncated: true), e =>
            {
                Assert.Null(e.Syslog);
                Assert.Equal("failed", e.ParseStatus);
                Assert.Equal(SyslogParseErrors.NoHeader, e.ParseError);
                Assert.True(e.Truncated);
                Assert.Equal(Convert.ToBase64String(line), e.RawBase64);
                Assert.Equal(Encoding.UTF8.GetString(line), e.Raw);
            });
        },
        ["an HTTP metric event with the sender's id, a message and a payload"] = () =>
        {
            using var payload = JsonDocument.Parse("""{"message":"tab\there","http":{"path":"/api/v1/orders","status":503,"ok":false},"user":{"id":"u-1"},"metric_value":3.5}""");
            var root = payload.RootElement;
            var bytes = EnvelopeWriter.ForCurrentThread.WriteJsonEvent(new EnvelopeHeader(Received, EventKinds.Metric, HttpOrigin(), 2), root, root.GetProperty("message"),
                new MetricValue("orders_total", 3.5, "counter"), Encoding.ASCII.GetBytes(SenderId)).ToArray();
            return (bytes, e =>
            {
                Assert.Equal((SenderId, EventKinds.Metric, 2, "acme"), (e.Id, e.Kind, e.SampleRate, e.Tenant));
                Assert.Equal("tab\there", e.Message);
                Assert.Equal("/api/v1/orders", e.Payload!.Value.GetProperty("http").GetProperty("path").GetString());
                Assert.Equal(("orders_total", 3.5, "counter"), (e.Metric!.Name, e.Metric.Value, e.Metric.Type));
                Assert.Null(e.Metric.Labels);
                Assert.Equal(("http", "198.51.100.4", 443), (e.Source.Transport, e.Source.Ip, e.Source.Port));
                Assert.Equal("req-1", e.Stream!.Id);
                Assert.Null(e.Syslog);
                Assert.Null(e.Raw);
            });
        },
        ["an HTTP event without a message or metric"] = () =>
        {
            using var payload = JsonDocument.Parse("""{"http":{"status":"200"},"user":{"id":7}}""");
            var bytes = EnvelopeWriter.ForCurrentThread.WriteJsonEvent(new EnvelopeHeader(Received, EventKinds.Event, HttpOrigin(), 1), payload.RootElement, default,
                new MetricValue(null, 0, "counter")).ToArray();
            return (bytes, e =>
            {
                Assert.Equal(EventKinds.Event, e.Kind);
                Assert.NotEqual(SenderId, e.Id);
                Assert.Null(e.Message);
                Assert.Null(e.Metric);
                Assert.Equal(7, e.Payload!.Value.GetProperty("user").GetProperty("id").GetInt32());
            });
        },
        ["an HTTP metric whose value is not a number"] = () =>
        {
            using var payload = JsonDocument.Parse("""{"metric_value":"Infinity"}""");
            var bytes = EnvelopeWriter.ForCurrentThread.WriteJsonEvent(new EnvelopeHeader(Received, EventKinds.Metric, HttpOrigin(), 1), payload.RootElement, default,
                new MetricValue("ratio", double.PositiveInfinity, "timer")).ToArray();
            return (bytes, e => Assert.Equal((double.PositiveInfinity, "timer"), (e.Metric!.Value, e.Metric.Type)));
        },
        ["an OTLP log record rendered by its decoder"] = () =>
        {
            var bytes = EnvelopeWriter.ForCurrentThread.WriteRendered(new EnvelopeHeader(Received, EventKinds.Log, HttpOrigin(), 1), "\"disk \\\"full\\\"\""u8,
                """{"severity_text":"WARN","attributes":{"disk":"/dev/sda"}}"""u8, default).ToArray();
            return (bytes, e =>
            {
                Assert.Equal("disk \"full\"", e.Message);
                Assert.Equal("WARN", e.Payload!.Value.GetProperty("severity_text").GetString());
            });
        },
        ["a scraped sample with family, unit, labels, timestamp and delta"] = () =>
        {
            var target = MetricEnvelopeTests.Target(labels: new() { ["env"] = "prod" }, tenant: "noc");
            var view = new MetricSampleView
            {
                Name = "http_request_duration_seconds_bucket"u8, Labels = "le=\"0.5\",path=\"C:\\\\x\""u8, Type = MetricType.Histogram,
                Family = "http_request_duration_seconds"u8, Unit = "seconds"u8, Value = 129389, HasTimestamp = true, TimestampMs = 1395066363000, Delta = 12,
            };
            var bytes = EnvelopeWriter.ForCurrentThread.WriteMetricSample(new EnvelopeHeader(Received, EventKinds.Metric, target.Origin, 1), view, target).ToArray();
            return (bytes, e =>
            {
                var m = e.Metric!;
                Assert.Equal(("http_request_duration_seconds_bucket", "histogram", "http_request_duration_seconds", "seconds"), (m.Name, m.Type, m.Family, m.Unit));
                Assert.Equal((129389.0, 12.0), (m.Value, m.Delta));
                Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1395066363000), m.Timestamp);
                Assert.Equal(["le", "path", "env", "instance", "job"], m.Labels!.Keys);
                Assert.Equal(@"C:\x", m.Labels["path"]);
                Assert.Equal(("scrape", "127.0.0.1", 9100, "noc"), (e.Source.Transport, e.Source.Ip, e.Source.Port, e.Tenant));
            });
        },
        ["a scraped sample without family, unit, timestamp or delta"] = () =>
        {
            var target = MetricEnvelopeTests.Target();
            var view = new MetricSampleView { Name = "up"u8, Type = MetricType.Gauge, Value = 1, Delta = double.NaN };
            var bytes = EnvelopeWriter.ForCurrentThread.WriteMetricSample(new EnvelopeHeader(Received, EventKinds.Metric, target.Origin, 1), view, target).ToArray();
            return (bytes, e =>
            {
                var m = e.Metric!;
                Assert.Equal(("up", "gauge", null, null, null, null), (m.Name, m.Type, m.Family, m.Unit, m.Timestamp, m.Delta));
                Assert.Equal(["instance", "job"], m.Labels!.Keys);
            });
        },
        ["unknown fields at every level (the envelope evolves by adding fields)"] = () =>
        {
            var (bytes, expect) = Written!["an RFC 5424 line over TCP with every field, tags, a tenant and a stream"]();
            var text = Encoding.UTF8.GetString(bytes);
            // Unknown fields that hold known names, before and inside the objects the readers walk into.
            const string unknown = "\"added_later\":{\"id\":\"not-this\",\"received_at\":\"2000-01-01T00:00:00Z\",\"hostname\":[\"not-this\",{\"severity\":0}]},";
            text = "{" + unknown + text[1..];
            foreach (var obj in new[] { EnvelopeFields.Source, EnvelopeFields.Syslog, EnvelopeFields.Stream })
                text = text.Replace($"\"{obj}\":{{", $"\"{obj}\":{{{unknown}", StringComparison.Ordinal);
            return (Encoding.UTF8.GetBytes(text), expect);
        },
    };

    /// <summary>The SIEM reads these in its own pass (never falling back to the codec), and reads what the codec reads.</summary>
    private static void SiemAgrees(TelemetryEvent e, byte[] bytes)
    {
        var read = Pipeline.Consumers.Siem.Normalising.EnvelopeReader.TryRead(bytes);
        Assert.NotNull(read);
        Assert.Equal(Encoding.UTF8.GetString(EnvelopeCodec.Encode(e)), Encoding.UTF8.GetString(EnvelopeCodec.Encode(read)));
    }

    private static void RowAgrees(TelemetryEvent e, EventRow row)
    {
        Assert.Equal(e.Id, EventRow.Text(row.Id));
        Assert.Equal(e.ReceivedAt.UtcDateTime, row.ReceivedAt);
        Assert.Equal(e.Kind, EventRow.Text(row.Kind));
        Assert.Equal(e.Tenant, EventRow.Text(row.Tenant));
        Assert.Equal(e.SampleRate, row.SampleRate);
        Assert.Equal(e.Message, EventRow.Text(row.Message));
        Assert.Equal(e.ParseStatus, EventRow.Text(row.ParseStatus));
        Assert.Equal(e.Source.Transport, EventRow.Text(row.Transport));
        Assert.Equal(e.Source.Edge, EventRow.Text(row.Edge));
        Assert.Equal(e.Source.Ip is { } ip ? IPAddress.Parse(ip) : null, row.SourceIp);
        Assert.Equal(e.Syslog?.Hostname, EventRow.Text(row.Host));
        Assert.Equal(e.Syslog?.AppName, EventRow.Text(row.App));
        Assert.Equal(e.Syslog?.Facility, row.Facility);
        Assert.Equal(e.Syslog?.Severity, row.Severity);
        Assert.Equal(e.Syslog?.Timestamp?.UtcDateTime, row.EventTime);
        Assert.Equal(e.Stream?.Id, EventRow.Text(row.StreamId));
        Assert.Equal(e.Stream?.Headers, Dictionary(row.StreamHeaders));
        Assert.Equal(e.Metric is not null && e.Kind == EventKinds.Metric, row.IsMetric);
        if (e.Metric is null)
        {
            Assert.Null(row.Metric);
            return;
        }
        var m = row.Metric!;
        Assert.Equal(e.Metric.Name, EventRow.Text(m.Name));
        Assert.Equal(e.Metric.Type, EventRow.Text(m.Type));
        Assert.Equal(e.Metric.Value, m.Value);
        Assert.Equal(e.Metric.Timestamp?.UtcDateTime, m.Time);
        Assert.Equal(e.Metric.Labels, Dictionary(m.Labels));
    }

    private static void ScanAgrees(TelemetryEvent e, byte[] bytes)
    {
        var scanner = new EnvelopeScanner(PayloadPaths, readMetric: true);
        var s = new ScannedEvent(PayloadPaths.Length);
        Assert.True(scanner.Scan(bytes, s));
        Assert.True(s.HasId);
        Assert.Equal(e.ReceivedAt, s.ReceivedAt);
        Assert.Equal(e.SampleRate, s.SampleRate);
        Assert.Equal(e.Kind, Text(s, s.Kind));
        Assert.Equal(e.Tenant, Text(s, s.Tenant));
        Assert.Equal(e.Message, Text(s, s.Message));
        Assert.Equal(e.Source.Ip, Text(s, s.SenderIp));
        Assert.Equal(e.Syslog?.Hostname, Text(s, s.Host));
        Assert.Equal(e.Syslog?.AppName, Text(s, s.App));
        Assert.Equal(e.Syslog?.Severity ?? -1, s.Severity);
        Assert.Equal(e.Metric?.Name, Text(s, s.MetricName));
        Assert.Equal(e.Metric?.Labels is { } labels ? string.Join(',', labels.Select(l => $"{l.Key}=\"{l.Value}\"")) : null, Text(s, s.MetricSeries));
        Assert.Equal(e.Metric?.Delta ?? double.NaN, s.MetricDelta);
        for (var i = 0; i < PayloadPaths.Length; i++) Assert.Equal(PayloadValue(e.Payload, PayloadPaths[i]), Text(s, s.Payload[i]));
    }

    /// <summary>A payload field as top-k keys it: a string's text, a number or literal as written, nothing for objects, arrays and null.</summary>
    private static string? PayloadValue(JsonElement? payload, string[] path)
    {
        if (payload is not { } at) return null;
        foreach (var segment in path)
            if (at.ValueKind != JsonValueKind.Object || !at.TryGetProperty(segment, out at)) return null;
        return at.ValueKind switch
        {
            JsonValueKind.String => at.GetString(),
            JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => at.GetRawText(),
            _ => null,
        };
    }

    private static string? Text(ScannedEvent s, TextSlot slot) => s.String(slot);

    private static Dictionary<string, string>? Dictionary(ReadOnlyMemory<byte>? json) =>
        json is { } j ? JsonSerializer.Deserialize<Dictionary<string, string>>(j.Span) : null;

    /// <summary>Every name defined for the envelope, as <c>object.field</c> for the fields of its objects.</summary>
    private static readonly HashSet<string> Defined = [.. Constants(typeof(EnvelopeFields), null),
        .. Constants(typeof(EnvelopeFields.OfSource), EnvelopeFields.Source), .. Constants(typeof(EnvelopeFields.OfSyslog), EnvelopeFields.Syslog),
        .. Constants(typeof(EnvelopeFields.OfStream), EnvelopeFields.Stream), .. Constants(typeof(EnvelopeFields.OfMetric), EnvelopeFields.Metric)];

    private static IEnumerable<string> Constants(Type type, string? parent) =>
        type.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral)
            .Select(f => (string)f.GetRawConstantValue()!).Select(n => parent is null ? n : parent + "." + n);

    /// <summary>
    /// The names in an envelope, as <see cref="Defined"/> spells them: the top level and the objects whose fields the
    /// envelope defines (not inside tags, payload, labels, headers or structured data, whose names are the sender's).
    /// </summary>
    private static HashSet<string> Names(JsonElement envelope, bool withUnknown)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var top in envelope.EnumerateObject())
        {
            if (!withUnknown && !Defined.Contains(top.Name)) continue;
            names.Add(top.Name);
            if (top.Name is EnvelopeFields.Source or EnvelopeFields.Syslog or EnvelopeFields.Stream or EnvelopeFields.Metric && top.Value.ValueKind == JsonValueKind.Object)
                foreach (var field in top.Value.EnumerateObject())
                    if (withUnknown || Defined.Contains(top.Name + "." + field.Name)) names.Add(top.Name + "." + field.Name);
        }
        return names;
    }

    private static ListenerMarkup Listener(string transport, Dictionary<string, string> tags, string? tenant) => new("test-" + transport, transport, "edge-1", tags, tenant);

    private static IngestOrigin TcpOrigin() => new(Listener("tcp", [], null), new IPEndPoint(IPAddress.Loopback, 514), null);

    private static IngestOrigin HttpOrigin() =>
        new(Listener("http", new() { ["team"] = "shop" }, null), new IPEndPoint(IPAddress.Parse("198.51.100.4"), 443), new StreamMarkup("req-1", [], tenant: "acme"));

    private static byte[] Syslog(string line, IngestOrigin origin, int sampleRate = 1) => Syslog(Encoding.UTF8.GetBytes(line), origin, sampleRate);

    private static byte[] Syslog(byte[] line, IngestOrigin origin, int sampleRate = 1, bool truncated = false)
    {
        var message = SyslogParser.Parse(line, new SyslogParseContext(Received, null, UtcTimeZoneResolver.Instance) { Truncated = truncated });
        return EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(Received, EventKinds.Log, origin, sampleRate), line, message).ToArray();
    }
}
