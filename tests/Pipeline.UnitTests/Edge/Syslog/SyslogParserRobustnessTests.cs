using System.Net;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class SyslogParserRobustnessTests
{
    private static readonly string[] KnownErrors =
    [
        SyslogParseErrors.EmptyLine, SyslogParseErrors.NoHeader, SyslogParseErrors.MissingPri, SyslogParseErrors.InvalidPri,
        SyslogParseErrors.InvalidVersion, SyslogParseErrors.MissingVersion, SyslogParseErrors.InvalidTimestamp,
        SyslogParseErrors.TruncatedHeader, SyslogParseErrors.InvalidHostname, SyslogParseErrors.InvalidAppName,
        SyslogParseErrors.InvalidProcId, SyslogParseErrors.InvalidMsgId, SyslogParseErrors.MalformedStructuredData,
        SyslogParseErrors.StructuredDataInMessage, SyslogParseErrors.Truncated,
    ];
    private static readonly string?[] ErrorsWithoutPri = [SyslogParseErrors.EmptyLine, SyslogParseErrors.NoHeader, SyslogParseErrors.MissingPri, SyslogParseErrors.InvalidPri];

    // Pieces of real syslog syntax, so random lines reach deep into the parser instead of failing at the PRI.
    private static readonly string[] Fragments =
    [
        "<13>", "<165>", "<0>", "<191>", "<999>", "<", ">", "1 ", "-", " ", "  ", "[", "]", "\"", "\\", "=", ":", ": ",
        "x@1", " a=\"", "Feb  5 ", "Mar 31 ", "Dec 31 ", "00:00:00", "23:59:60", ".567", "2024 ", "*", ".",
        "2024-03-01T10:00:00", ".123456789", "Z", "+01:00", "-14:00", "+99:99", "T", "host", "app", "[12]", "52: ",
        "%ASA-4-106023: ", "%SYS-5-CONFIG_I:", "UTC: ", "EST: ", "\uFEFF", "ü", "\u2713", "\n", "\r", "\0", "9", "0",
    ];

    [Theory]
    [InlineData("<1a>msg")]
    [InlineData("<013>msg")]
    [InlineData("<00>msg")]
    [InlineData("<>msg")]
    [InlineData("<1234>msg")]
    [InlineData("<-1>msg")]
    public void ABracketedPriTheRfcsRejectLeavesFacilityAndSeverityAbsentAndTheRestIsRead(string line)
    {
        var p = Parsed.Of(line);

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.InvalidPri, p.Error);
        Assert.Equal(-1, p.Facility);
        Assert.Equal(-1, p.Severity);
        Assert.Equal("msg", p.Message);
    }

    [Fact]
    public void AnRfc5424LineWithAPriAbove191IsStillReadField()
    {
        var p = Parsed.Of("<999>1 2003-10-11T22:14:15Z host app - - - msg");

        Assert.Equal(SyslogFormat.Rfc5424, p.Format);
        Assert.Equal(SyslogParseErrors.InvalidPri, p.Error);
        Assert.Equal(-1, p.Severity);
        Assert.Equal("host", p.Hostname);
        Assert.Equal("app", p.AppName);
        Assert.Equal("msg", p.Message);
    }

    [Fact]
    public void ABsdLineWithPri192IsStillReadField()
    {
        var p = Parsed.Of("<192>Feb  5 17:32:18 host app: msg");

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.InvalidPri, p.Error);
        Assert.Equal(-1, p.Facility);
        Assert.NotNull(p.Timestamp);
        Assert.Equal("host", p.Hostname);
        Assert.Equal("app", p.AppName);
        Assert.Equal("msg", p.Message);
    }

    [Theory]
    [InlineData("no pri at all")]
    [InlineData("<13 Feb  5 17:32:18 host app: msg")]
    [InlineData("<")]
    [InlineData(">13<msg")]
    [InlineData("sshd[12]: a tag alone is not enough without a PRI")]
    public void TextWithNeitherAPriNorATimestampNorAnAddressIsFailedAndShippedWhole(string line)
    {
        var p = Parsed.Of(line);

        Assert.Equal(SyslogFormat.Unknown, p.Format);
        Assert.Equal(ParseStatus.Failed, p.Status);
        Assert.Equal(SyslogParseErrors.NoHeader, p.Error);
        Assert.Equal(-1, p.Facility);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal(line, p.Message);
    }

    [Theory]
    [InlineData("<0>x", 0, 0)]
    [InlineData("<7>x", 0, 7)]
    [InlineData("<8>x", 1, 0)]
    [InlineData("<191>x", 23, 7)]
    public void EveryPriFromZeroTo191SplitsIntoFacilityAndSeverity(string line, int facility, int severity)
    {
        var p = Parsed.Of(line);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(facility, p.Facility);
        Assert.Equal(severity, p.Severity);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\0\0")]
    [InlineData("   ")]
    [InlineData(" \t\n")]
    public void AnEmptyLineIsFailedButStillAMessage(string line)
    {
        var p = Parsed.Of(line);

        Assert.Equal(ParseStatus.Failed, p.Status);
        Assert.Equal(SyslogParseErrors.EmptyLine, p.Error);
        Assert.Equal(SyslogFormat.Unknown, p.Format);
        Assert.Equal(-1, p.Facility);
        Assert.Equal(-1, p.Severity);
        Assert.NotNull(p.Message);
    }

    [Fact]
    public void WhiteSpaceBeforeThePriIsSkipped()
    {
        var p = Parsed.Of("\r\n <13>Feb  5 17:32:18 host app: msg");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("host", p.Hostname);
        Assert.Equal("msg", p.Message);
    }

    [Fact]
    public void InvalidUtf8AndNulsInsideTheMessageAreKeptAsBytes()
    {
        byte[] line = [.. "<13>1 - host app - - - a"u8, 0xFF, 0x00, 0xC3, (byte)'b'];
        var m = SyslogParser.Parse(line, Context());

        Assert.Equal(ParseStatus.Ok, m.Status);
        Assert.Equal(line.AsSpan(line.Length - 5).ToArray(), m.Message.Of(line).ToArray());
    }

    [Fact]
    public void ArbitraryBytesNeverCrashTheParserAndEveryRangeStaysInsideTheLine()
    {
        var property = Prop.ForAll(ArbMap.Default.ArbFor<byte[]>(), line => HoldsInvariants(line));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(2000), property);
    }

    [Fact]
    public void SyslogShapedNoiseNeverCrashesTheParserAndEveryRangeStaysInsideTheLine()
    {
        var lines = Gen.ArrayOf(Gen.Elements(Fragments)).Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)));
        var property = Prop.ForAll(lines.ToArbitrary(), line => HoldsInvariants(line));
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(5000), property);
    }

    [Fact]
    public void ParsingAllocatesNothingButTheResult()
    {
        var berlin = new SyslogParserRfc3164Tests.FixedZone(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        byte[][] lines =
        [
            "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\"] \uFEFFAn application event"u8.ToArray(),
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"u8.ToArray(),
            "<189>52: *Mar  1 00:12:34.567: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.1)"u8.ToArray(),
            "garbage without a PRI"u8.ToArray(),
        ];
        var contexts = new[] { Context(), new SyslogParseContext(Parsed.DefaultReceivedAt, IPAddress.Loopback, berlin) };

        foreach (var context in contexts)
        {
            foreach (var line in lines) SyslogParser.Parse(line, context);
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < 1000; i++)
            {
                foreach (var line in lines) SyslogParser.Parse(line, context);
            }

            Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        }
    }

    private static SyslogParseContext Context() => new(Parsed.DefaultReceivedAt, IPAddress.Loopback, UtcTimeZoneResolver.Instance);

    private static bool HoldsInvariants(byte[] line)
    {
        var m = SyslogParser.Parse(line, Context());
        foreach (var range in new[] { m.Hostname, m.AppName, m.ProcId, m.MsgId, m.StructuredData, m.Message, m.SequenceNumber })
        {
            if (range.IsPresent && (range.Start < 0 || range.Start + range.Length > line.Length)) return false;
        }

        if ((m.Status == ParseStatus.Ok) != (m.Error is null)) return false;
        if (m.Error is not null && Array.IndexOf(KnownErrors, m.Error) < 0) return false;
        if (m.Status == ParseStatus.Failed) return m.Facility == -1 && m.Severity == -1;
        if ((m.Facility == -1) != (m.Severity == -1) || m.Facility is < -1 or > 23 || m.Severity is < -1 or > 7) return false;
        // Facility and severity are absent only when the PRI is.
        if (m.Facility == -1 && Array.IndexOf(ErrorsWithoutPri, m.Error) < 0) return false;
        // A BSD line (or a line read as one) always carries its message; only RFC 5424 may have none.
        if (m.Format == SyslogFormat.Rfc3164 && !m.Message.IsPresent) return false;
        if (m.StructuredData.IsPresent && !StructuredData.IsWellFormed(m.StructuredData.Of(line))) return false;
        if (m.TimestampExtraNanoseconds is < 0 or > 99) return false;
        return true;
    }
}
