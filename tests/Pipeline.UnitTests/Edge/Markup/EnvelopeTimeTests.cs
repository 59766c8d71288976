using System.Net;
using System.Text;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Markup;

public sealed class EnvelopeTimeTests
{
    [Fact]
    public void AnEnvelopesReceiveTimeIsReadBackFromItsIdToTheMillisecond()
    {
        var receivedAt = DateTimeOffset.Parse("2026-12-01T10:00:00.123456Z", System.Globalization.CultureInfo.InvariantCulture);
        var line = "<134>1 2026-12-01T09:59:59Z host app - - - hello"u8;
        var listener = new ListenerMarkup("syslog-tcp", "tcp", "edge-1", new Dictionary<string, string>(), null);
        var origin = new IngestOrigin(listener, new IPEndPoint(IPAddress.Loopback, 5514), null);
        var message = SyslogParser.Parse(line, new SyslogParseContext(receivedAt, IPAddress.Loopback, UtcTimeZoneResolver.Instance));
        var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(receivedAt, "log", origin, 1), line, message);

        Assert.Equal(receivedAt.ToUnixTimeMilliseconds(), EnvelopeWriter.ReceivedAtMilliseconds(envelope));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"received_at\":\"2026-12-01T10:00:00Z\",\"id\":\"01JEXAMPLE0000000000000000\"}")]
    [InlineData("{\"id\":\"not a ulid at all\"}")]
    [InlineData("plain text")]
    public void BytesThatAreNotAnEdgeEnvelopeGiveNoTime(string value) =>
        Assert.Equal(0, EnvelopeWriter.ReceivedAtMilliseconds(Encoding.UTF8.GetBytes(value)));
}
