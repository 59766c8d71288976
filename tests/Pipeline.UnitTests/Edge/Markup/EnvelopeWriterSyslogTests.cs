using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Markup;

public sealed class EnvelopeWriterSyslogTests
{
    private static readonly DateTimeOffset Received = new(2024, 6, 15, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AnRfc5424LineCarriesItsVersionAndABsdLineNone()
    {
        Assert.Equal(2, Syslog("<34>2 2003-10-11T22:14:15.003Z host su - - - x")["version"]!.GetValue<int>());
        Assert.Null(Syslog("<34>Oct 11 22:14:15 host su: x")["version"]);
    }

    [Fact]
    public void NanosecondsBeyondTicksAreWrittenAsNineFractionDigitsWithTheOffset()
    {
        var syslog = Syslog("<13>1 2003-10-11T22:14:15.123456789+02:00 host app - - - x");

        Assert.Equal("2003-10-11T22:14:15.123456789+02:00", syslog["timestamp"]!.GetValue<string>());
    }

    [Fact]
    public void ALineWithoutAPriHasNoFacilityOrSeverityInItsEnvelope()
    {
        var syslog = Syslog("Oct 11 22:14:15 host su: x");

        Assert.Null(syslog["facility"]);
        Assert.Null(syslog["severity"]);
        Assert.Equal("host", syslog["hostname"]!.GetValue<string>());
    }

    [Fact]
    public void ATruncatedLineIsMarkedInItsEnvelope()
    {
        var line = "<13>Oct 11 22:14:15 host su: the first part"u8.ToArray();
        var envelope = Envelope(line, new SyslogParseContext(Received, null, UtcTimeZoneResolver.Instance) { Truncated = true });

        Assert.True(envelope["truncated"]!.GetValue<bool>());
        Assert.Equal("partial", envelope["parse_status"]!.GetValue<string>());
        Assert.Equal(SyslogParseErrors.Truncated, envelope["parse_error"]!.GetValue<string>());
        Assert.Null(Envelope("<13>Oct 11 22:14:15 host su: x"u8.ToArray(), Context())["truncated"]);
    }

    private static JsonObject Syslog(string line) => Envelope(Encoding.UTF8.GetBytes(line), Context())["syslog"]!.AsObject();

    private static SyslogParseContext Context() => new(Received, null, UtcTimeZoneResolver.Instance);

    private static JsonObject Envelope(byte[] line, SyslogParseContext context)
    {
        var origin = new IngestOrigin(new ListenerMarkup("test", "tcp", "edge", new Dictionary<string, string>(), null), new IPEndPoint(IPAddress.Loopback, 514), null);
        var message = SyslogParser.Parse(line, context);
        var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(Received, EventKinds.Log, origin, 1), line, message);
        return JsonNode.Parse(envelope.ToArray())!.AsObject();
    }
}
