using System.Text;
using Pipeline.Core.Envelope;

namespace Pipeline.UnitTests.Core;

public sealed class EnvelopeCodecTests
{
    [Fact]
    public void AnEnvelopeRoundTripsWithSnakeCaseNames()
    {
        var original = new TelemetryEvent
        {
            Id = "01JDZQ4Q0W3Y1V5Z7F6S4H2M8N",
            ReceivedAt = DateTimeOffset.Parse("2026-11-21T10:00:00.123456Z", System.Globalization.CultureInfo.InvariantCulture),
            Source = new EventSource { Transport = "udp", Ip = "10.0.0.1", Port = 514, Edge = "edge-1" },
            SampleRate = 4,
            Syslog = new SyslogFields { Facility = 4, Severity = 3, Hostname = "web-1", AppName = "sshd", Rfc = "5424" },
            Message = "Failed password",
        };

        var json = Encoding.UTF8.GetString(EnvelopeCodec.Encode(original));
        var decoded = EnvelopeCodec.Decode(Encoding.UTF8.GetBytes(json));

        Assert.Contains("\"received_at\":", json);
        Assert.Contains("\"sample_rate\":4", json);
        Assert.Contains("\"app_name\":\"sshd\"", json);
        Assert.Equal(original.ReceivedAt, decoded.ReceivedAt);
        Assert.Equal("web-1", decoded.Syslog!.Hostname);
        Assert.Equal(4, decoded.SampleRate);
    }

    [Fact]
    public void AnEdgeEnvelopeWithVersionNineFractionDigitsAndTruncationDecodesAndReadersParseItsTime()
    {
        var json = """
            {"id":"01JDZQ4Q0W3Y1V5Z7F6S4H2M8N","received_at":"2026-11-21T10:00:00.1234567+00:00","kind":"log",
             "source":{"transport":"tcp"},"syslog":{"version":1,"timestamp":"2003-10-11T22:14:15.123456789+02:00","rfc":"5424"},
             "raw":"x","truncated":true,"parse_status":"partial","parse_error":"line truncated"}
            """u8.ToArray();

        var decoded = EnvelopeCodec.Decode(json);

        Assert.Equal(1, decoded.Syslog!.Version);
        Assert.True(decoded.Truncated);
        Assert.Equal(new DateTimeOffset(2003, 10, 11, 22, 14, 15, TimeSpan.FromHours(2)).AddTicks(1_234_567), decoded.Syslog.Timestamp);
        var reader = new System.Text.Json.Utf8JsonReader("\"2003-10-11T22:14:15.123456789+02:00\""u8);
        reader.Read();
        Assert.True(reader.TryGetDateTimeOffset(out _), "consumers that read the time with Utf8JsonReader accept nine digits");
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("{\"received_at\":\"2026-11-21T10:00:00Z\"}")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"id\":null,\"received_at\":\"2026-11-21T10:00:00Z\"}")]
    [InlineData("null")]
    public void AnythingThatIsNotAnEnvelopeIsRefusedWithAClearError(string value)
    {
        var error = Assert.Throws<EnvelopeFormatException>(() => EnvelopeCodec.Decode(Encoding.UTF8.GetBytes(value)));
        Assert.StartsWith("not a v1 envelope", error.Message);
    }
}
