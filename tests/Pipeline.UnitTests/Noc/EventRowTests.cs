using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Consumers.Postgres;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Noc;

public sealed class EventRowTests
{
    private static readonly DateTimeOffset At = new(2026, 3, 14, 9, 26, 53, 589, TimeSpan.Zero);

    [Fact]
    public void AnEnvelopeBecomesARowWithEveryColumnTakenFromItsFields()
    {
        var e = Syslog();
        var row = EventRow.From(Record(EnvelopeCodec.Encode(e)));

        Assert.Equal("01JAAAAAAAAAAAAAAAAAAAAAAA", EventRow.Text(row.Id));
        Assert.Equal(At.UtcDateTime, row.ReceivedAt);
        Assert.Equal(DateTimeKind.Utc, row.ReceivedAt.Kind);
        Assert.Equal(At.AddSeconds(-2).UtcDateTime, row.EventTime);
        Assert.Equal("log", EventRow.Text(row.Kind));
        Assert.Equal("core-sw-01", EventRow.Text(row.Host));
        Assert.Equal("ospfd", EventRow.Text(row.App));
        Assert.Equal((short)23, row.Facility);
        Assert.Equal((short)3, row.Severity);
        Assert.Equal("neighbour 10.0.0.2 down", EventRow.Text(row.Message));
        Assert.Equal(IPAddress.Parse("192.0.2.7"), row.SourceIp);
        Assert.Equal("tcp", EventRow.Text(row.Transport));
        Assert.Equal("edge-1", EventRow.Text(row.Edge));
        Assert.Equal("acme", EventRow.Text(row.Tenant));
        Assert.Equal(4, row.SampleRate);
        Assert.Equal("conn-9", EventRow.Text(row.StreamId));
        Assert.Equal("{\"user-agent\":\"rsyslog\"}", EventRow.Text(row.StreamHeaders));
        Assert.Equal("ok", EventRow.Text(row.ParseStatus));
        Assert.Equal(new DateOnly(2026, 3, 14), row.Day);
    }

    [Fact]
    public void ThePayloadColumnIsTheRecordItselfAndPlainTextColumnsAreSlicesOfIt()
    {
        var value = EnvelopeCodec.Encode(Syslog());
        var row = EventRow.From(Record(value));

        Assert.True(row.Payload.Span.SequenceEqual(value));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(row.Host!.Value, out var segment));
        Assert.Same(value, segment.Array);
    }

    [Fact]
    public void EscapedTextIsUnescapedIntoItsOwnCopy()
    {
        var e = Syslog();
        e.Message = "quote \" tab \t backslash \\ é ✓ nul \u0000 end";
        var value = EnvelopeCodec.Encode(e);
        var row = EventRow.From(Record(value));

        Assert.Equal(e.Message, EventRow.Text(row.Message));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(row.Message!.Value, out var segment));
        Assert.NotSame(value, segment.Array);
    }

    [Fact]
    public void AbsentAndNullFieldsBecomeNullColumnsAndAMissingKindIsLog()
    {
        var row = EventRow.From(Record("""{"id":"x1","received_at":"2026-03-14T09:26:53.5+02:00","tenant":null,"syslog":null,"source":{"ip":"not an address"},"tags":{"a":"b"},"payload":{"deep":[1,{"x":null}]}}"""));

        Assert.Equal("x1", EventRow.Text(row.Id));
        Assert.Equal(new DateTime(2026, 3, 14, 7, 26, 53, 500, DateTimeKind.Utc), row.ReceivedAt);
        Assert.Equal("log", EventRow.Text(row.Kind));
        Assert.Null(row.Tenant);
        Assert.Null(row.Host);
        Assert.Null(row.Severity);
        Assert.Null(row.EventTime);
        Assert.Null(row.SourceIp);
        Assert.Null(row.StreamId);
        Assert.Equal(1, row.SampleRate);
    }

    [Theory]
    [InlineData("<13>Oct 11 22:14:15 host app: not json", "not a v1 envelope")]
    [InlineData("", "not a v1 envelope")]
    [InlineData("[1,2,3]", "not a JSON object")]
    [InlineData("{\"received_at\":\"2026-03-14T09:26:53Z\"}", "no id")]
    [InlineData("{\"id\":\"\",\"received_at\":\"2026-03-14T09:26:53Z\"}", "no id")]
    [InlineData("{\"id\":\"x\"}", "no received_at")]
    [InlineData("{\"id\":5,\"received_at\":\"2026-03-14T09:26:53Z\"}", "id must be a string")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"yesterday\"}", "received_at must be an RFC 3339 time")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2026-03-14T09:26:53Z\",\"syslog\":{\"severity\":70000}}", "syslog.severity must be a small integer")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2026-03-14T09:26:53Z\",\"source\":\"udp\"}", "source must be an object")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2026-03-14T09:26:53Z\",\"sample_rate\":1.5}", "sample_rate must be a 32-bit integer")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2026-03-14T09:26:53Z\"} trailing", "not a v1 envelope")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2026-03-14T09:26:53Z\",\"message\":\"cut", "not a v1 envelope")]
    public void ARecordThatIsNotAV1EnvelopeIsAPoisonRecordThatSaysWhy(string value, string reason)
    {
        var record = Record(value);
        var poison = Assert.Throws<PoisonRecordException>(() => EventRow.From(record));
        Assert.Same(record, poison.Record);
        Assert.StartsWith("not a v1 envelope: ", poison.Reason, StringComparison.Ordinal);
        Assert.Contains(reason, poison.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryFieldAgreesWithTheEnvelopeCodecOverManyGeneratedEnvelopes()
    {
        var random = new Random(7);
        for (var i = 0; i < 2000; i++)
        {
            var e = Generated(random, i);
            var value = EnvelopeCodec.Encode(e);
            var decoded = EnvelopeCodec.Decode(value);
            var row = EventRow.From(Record(value));

            Assert.Equal(decoded.Id, EventRow.Text(row.Id));
            Assert.Equal(decoded.ReceivedAt.UtcDateTime, row.ReceivedAt);
            Assert.Equal(decoded.Syslog?.Timestamp?.UtcDateTime, row.EventTime);
            Assert.Equal(decoded.Kind, EventRow.Text(row.Kind));
            Assert.Equal(decoded.Syslog?.Hostname, EventRow.Text(row.Host));
            Assert.Equal(decoded.Syslog?.AppName, EventRow.Text(row.App));
            Assert.Equal((short?)decoded.Syslog?.Facility, row.Facility);
            Assert.Equal((short?)decoded.Syslog?.Severity, row.Severity);
            Assert.Equal(decoded.Message, EventRow.Text(row.Message));
            Assert.Equal(IPAddress.TryParse(decoded.Source.Ip, out var ip) ? ip : null, row.SourceIp);
            Assert.Equal(decoded.Source.Transport, EventRow.Text(row.Transport));
            Assert.Equal(decoded.Source.Edge, EventRow.Text(row.Edge));
            Assert.Equal(decoded.Tenant, EventRow.Text(row.Tenant));
            Assert.Equal(decoded.SampleRate, row.SampleRate);
            Assert.Equal(decoded.Stream?.Id, EventRow.Text(row.StreamId));
            Assert.Equal(decoded.ParseStatus, EventRow.Text(row.ParseStatus));
        }
    }

    private static TelemetryEvent Syslog() => new()
    {
        Id = "01JAAAAAAAAAAAAAAAAAAAAAAA",
        ReceivedAt = At,
        Kind = EventKinds.Log,
        Source = new EventSource { Transport = "tcp", Ip = "192.0.2.7", Port = 51514, Edge = "edge-1" },
        Tenant = "acme",
        SampleRate = 4,
        Tags = new Dictionary<string, string> { ["site"] = "par1" },
        Syslog = new SyslogFields
        {
            Facility = 23, Severity = 3, Timestamp = At.AddSeconds(-2), Hostname = "core-sw-01", AppName = "ospfd", Procid = "77", Rfc = "5424",
            StructuredData = new Dictionary<string, Dictionary<string, string>> { ["origin@1"] = new() { ["ip"] = "10.0.0.1" } },
        },
        Message = "neighbour 10.0.0.2 down",
        Raw = "<187>1 2026-03-14T09:26:51.589Z core-sw-01 ospfd 77 - - neighbour 10.0.0.2 down",
        ParseStatus = "ok",
        Stream = new StreamInfo { Id = "conn-9", Headers = new Dictionary<string, string> { ["user-agent"] = "rsyslog" } },
    };

    /// <summary>Envelopes with fields present or absent at random, odd characters, other time offsets.</summary>
    private static TelemetryEvent Generated(Random random, int i)
    {
        string? Maybe(string text) => random.Next(4) == 0 ? null : text;
        string Odd() => new[] { "plain", "quote\"d", "tab\there", "ünïcödé ✓", "back\\slash", "line\nbreak", "" }[random.Next(7)];
        var at = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(random.Next(-12, 13))).AddMilliseconds(random.NextInt64(0, 31_536_000_000));
        return new TelemetryEvent
        {
            Id = "id-" + i,
            ReceivedAt = at,
            Kind = new[] { "log", "metric", "trace", "event" }[random.Next(4)],
            Source = new EventSource
            {
                Transport = new[] { "udp", "tcp", "http" }[random.Next(3)],
                Ip = Maybe(random.Next(2) == 0 ? $"10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}" : "2001:db8::" + random.Next(65536).ToString("x", System.Globalization.CultureInfo.InvariantCulture)),
                Edge = Maybe("edge-" + random.Next(3)),
            },
            Tenant = Maybe("tenant" + Odd()),
            SampleRate = random.Next(1, 100),
            Syslog = random.Next(3) == 0 ? null : new SyslogFields
            {
                Facility = random.Next(4) == 0 ? null : random.Next(24),
                Severity = random.Next(4) == 0 ? null : random.Next(8),
                Timestamp = random.Next(4) == 0 ? null : at.AddSeconds(-random.Next(100)),
                Hostname = Maybe("host-" + Odd()),
                AppName = Maybe("app" + Odd()),
            },
            Message = Maybe("message " + Odd() + " " + i),
            Payload = random.Next(3) == 0 ? JsonSerializer.SerializeToElement(new { n = i, text = Odd() }) : null,
            ParseStatus = Maybe("ok"),
            Stream = random.Next(3) == 0 ? new StreamInfo { Id = "s" + random.Next(10), Headers = random.Next(2) == 0 ? null : new() { ["h"] = Odd() } } : null,
        };
    }

    private static ConsumedRecord Record(string value) => Record(Encoding.UTF8.GetBytes(value));

    private static ConsumedRecord Record(byte[] value) => new("syslog", 2, 41, null, value, At);
}
