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
