using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

/// <summary>The header forms real devices and relays write beside the RFCs, one test (or theory) per form.</summary>
public sealed class SyslogParserDeviceFormTests
{
    private static readonly DateTimeOffset Received = new(2024, 10, 20, 9, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("1", 1)]
    [InlineData("2", 2)]
    [InlineData("30", 30)]
    [InlineData("100", 100)]
    [InlineData("999", 999)]
    public void AnRfc5424VersionFrom1To999IsReadAsRfc5424(string version, int value)
    {
        var p = Parsed.Of($"<34>{version} 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed");

        Assert.Equal(SyslogFormat.Rfc5424, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(value, p.Raw.Version);
        Assert.Equal(new DateTimeOffset(2003, 10, 11, 22, 14, 15, 3, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("mymachine.example.com", p.Hostname);
        Assert.Equal("su", p.AppName);
        Assert.Equal("ID47", p.MsgId);
        Assert.Equal("'su root' failed", p.Message);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("01")]
    public void AVersionOfZeroOrWithALeadingZeroIsReadAsRfc5424AndMakesTheLinePartial(string version)
    {
        var p = Parsed.Of($"<6>{version} 2017-02-15T16:01:07.000+01:00 hostname test - - -  test 4");

        Assert.Equal(SyslogFormat.Rfc5424, p.Format);
        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.InvalidVersion, p.Error);
        Assert.Equal(new DateTimeOffset(2017, 2, 15, 15, 1, 7, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("hostname", p.Hostname);
        Assert.Equal("test", p.AppName);
        Assert.Equal("test 4", p.Message);
    }

    [Fact]
    public void FourDigitsAreNoVersion()
    {
        var p = Parsed.Of("<34>1000 2003-10-11T22:14:15.003Z host su - - - x");

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(-1, p.Raw.Version);
    }

    [Fact]
    public void AVersionFollowedByABsdTimestampIsKeptAndTheRestIsReadAsRfc3164()
    {
        var p = Parsed.Of("<31>1 Oct 13 14:14:43 localhost AppleCameraAssistant[470]: DeviceMessageNotificationCallback", Received);

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(1, p.Raw.Version);
        Assert.Equal(new DateTimeOffset(2024, 10, 13, 14, 14, 43, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("localhost", p.Hostname);
        Assert.Equal("AppleCameraAssistant", p.AppName);
        Assert.Equal("470", p.ProcId);
    }

    [Fact]
    public void AnRfc5424HeaderWithoutItsVersionIsReadAsRfc5424AndMakesTheLinePartial()
    {
        var p = Parsed.Of("<34>2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed");

        Assert.Equal(SyslogFormat.Rfc5424, p.Format);
        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.MissingVersion, p.Error);
        Assert.Equal(-1, p.Raw.Version);
        Assert.Equal("mymachine.example.com", p.Hostname);
        Assert.Equal("su", p.AppName);
        Assert.Null(p.ProcId);
        Assert.Equal("ID47", p.MsgId);
        Assert.Equal("'su root' failed", p.Message);
    }

    [Fact]
    public void ASpaceAfterThePriIsSkipped()
    {
        var p = Parsed.Of("<13> Aug 16 12:25:24 10.12.255.2-1 TRAPMGR[53034492]: traputil.c(696) 135956 %% Link Up: g5.", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 8, 16, 12, 25, 24, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("10.12.255.2-1", p.Hostname);
        Assert.Equal("TRAPMGR", p.AppName);
        Assert.Equal("53034492", p.ProcId);
        Assert.Equal("traputil.c(696) 135956 %% Link Up: g5.", p.Message);
    }

    [Theory]
    [InlineData("<15> openvpn[2499]: Initialization Sequence Completed", "openvpn", "2499", "Initialization Sequence Completed")]
    [InlineData("<189> program[4242]: message", "program", "4242", "message")]
    [InlineData("<14>myapp: started", "myapp", null, "started")]
    public void ALineWithoutATimestampHasNoHostnameButItsTag(string line, string app, string? pid, string message)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal(app, p.AppName);
        Assert.Equal(pid, p.ProcId);
        Assert.Equal(message, p.Message);
    }

    [Theory]
    [InlineData("<30>s2413.example.es Instancia3[22469]: INFO started", "s2413.example.es", "Instancia3", "22469", "INFO started")]
    [InlineData("<190>AMP (airwave)[6944]: Your license", "AMP", "(airwave)", "6944", "Your license")]
    [InlineData("<189>192.168.26.254 time=16:31:28 devname=fw", "192.168.26.254", null, null, "time=16:31:28 devname=fw")]
    [InlineData("<189>192.168.26.254 myApp time=16:31:28 devname=fw", "192.168.26.254", "myApp", null, "time=16:31:28 devname=fw")]
    public void WithoutATimestampAnAddressOrAHostBeforeATagWithAPidIsTheHostname(string line, string host, string? app, string? pid, string message)
    {
        var p = Parsed.Of(line, Received);

        Assert.Null(p.Timestamp);
        Assert.Equal(host, p.Hostname);
        Assert.Equal(app, p.AppName);
        Assert.Equal(pid, p.ProcId);
        Assert.Equal(message, p.Message);
    }

    [Theory]
    [InlineData("<13>Mar  7 2008 19:06:53 host app: x", 2008, 3, 7, 19, 6, 53)]
    [InlineData("<13>Oct 16 2009 23:47:31 host app: x", 2009, 10, 16, 23, 47, 31)]
    [InlineData("<13>Apr 15 21:28:13 2007 host app: x", 2007, 4, 15, 21, 28, 13)]
    public void AYearBeforeOrAfterTheTimeIsRead(string line, int year, int month, int day, int hour, int minute, int second)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("host", p.Hostname);
        Assert.Equal("app", p.AppName);
        Assert.Equal("x", p.Message);
    }

    [Fact]
    public void AColonAfterTheTimeIsSkippedAndAHostnameMayFollowIt()
    {
        var p = Parsed.Of("<13>Mar  7 19:06:53: myhost sshd[77]: Accepted publickey", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 3, 7, 19, 6, 53, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("myhost", p.Hostname);
        Assert.Equal("sshd", p.AppName);
        Assert.Equal("77", p.ProcId);
        Assert.Equal("Accepted publickey", p.Message);
    }

    [Theory]
    [InlineData("<13>AUG 10 12:00:00 host app: x")]
    [InlineData("<13>aug 10 12:00:00 host app: x")]
    [InlineData("<13>Aug 10 12:00:00 host app: x")]
    public void TheMonthIsReadInAnyLetterCase(string line)
    {
        Assert.Equal(new DateTimeOffset(2024, 8, 10, 12, 0, 0, TimeSpan.Zero), Parsed.Of(line, Received).Timestamp);
    }

    [Theory]
    [InlineData("<13>Oct 11 22:14:15.000000005 host app: x", 0L, 5)]
    [InlineData("<13>Oct 11 22:14:15.123456789 host app: x", 1_234_567L, 89)]
    [InlineData("<13>Oct 11 22:14:15.1234567891234 host app: x", 1_234_567L, 89)]
    [InlineData("<13>Oct 11 22:14:15.12345678 host app: x", 1_234_567L, 80)]
    public void FractionsBeyondSixDigitsKeepTicksAndNanoseconds(string line, long ticks, int nanoseconds)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 10, 11, 22, 14, 15, TimeSpan.Zero).AddTicks(ticks), p.Timestamp);
        Assert.Equal(nanoseconds, p.Raw.TimestampExtraNanoseconds);
    }

    [Theory]
    [InlineData("1.2.3.4")]
    [InlineData("2607:f0d0:1002:51::4")]
    [InlineData("2607:f0d0:1002:0051:0000:0000:0000:0004")]
    [InlineData("1::")]
    [InlineData("::ffff:0:255.255.255.255")]
    [InlineData("60::ffff::10.0.1.120")]
    public void AnIpv4OrIpv6AddressIsTheHostname(string address)
    {
        var p = Parsed.Of($"<13>Feb 25 17:32:18 {address} Use the Force!", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(address, p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal("Use the Force!", p.Message);
    }

    [Theory]
    [InlineData("fluentd[11111] [error] Syslog test", "fluentd", "11111", "[error] Syslog test")]
    [InlineData("~!@#$%^&*()_+=-`]{};\"'/?\\,.<>[11111]: [error] Syslog test", "~!@#$%^&*()_+=-`]{};\"'/?\\,.<>", "11111", "[error] Syslog test")]
    [InlineData("ansible-<stdin>: Invoked with filter=*", "ansible-<stdin>", null, "Invoked with filter=*")]
    [InlineData("proc:sub: colons inside a tag", "proc:sub", null, "colons inside a tag")]
    public void ATagIsOneWordEndingInAColonOrAPidAndMayHoldAnyPrintableByte(string rest, string app, string? pid, string message)
    {
        var p = Parsed.Of("<13>Feb 28 12:00:00 192.168.0.1 " + rest, Received);

        Assert.Equal("192.168.0.1", p.Hostname);
        Assert.Equal(app, p.AppName);
        Assert.Equal(pid, p.ProcId);
        Assert.Equal(message, p.Message);
    }

    [Fact]
    public void ACiscoLineWithASequenceNumberTimeMarkerAndAHostAfterTheTimeColonIsRead()
    {
        var p = Parsed.Of("<0>91: *Oct 07 03:10:04: router7 %CRYPTO-4-RECVD_PKT_INV_SPI: decaps: rec'd IPSEC packet has invalid spi", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("91", p.SequenceNumber);
        Assert.Equal(new DateTimeOffset(2024, 10, 7, 3, 10, 4, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("router7", p.Hostname);
        Assert.Equal("CRYPTO", p.AppName);
        Assert.Equal("RECVD_PKT_INV_SPI", p.MsgId);
        Assert.Equal("%CRYPTO-4-RECVD_PKT_INV_SPI: decaps: rec'd IPSEC packet has invalid spi", p.Message);
    }

    [Fact]
    public void AnAixRelayedLineNamesItsOriginHost()
    {
        var p = Parsed.Of("<38>Dec 29 11:05:21 Message forwarded from aixhost7: sshd[1234]: Accepted password for root", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("aixhost7", p.Hostname);
        Assert.Equal("sshd", p.AppName);
        Assert.Equal("1234", p.ProcId);
        Assert.Equal("Accepted password for root", p.Message);
    }

    [Theory]
    [InlineData("<46>Oct 11 22:14:15 host -- MARK --", "host", "-- MARK --")]
    [InlineData("<46>Oct 11 22:14:15 -- MARK --", null, "-- MARK --")]
    [InlineData("<46>Oct 11 22:14:15 --- last message repeated 3 times ---", null, "--- last message repeated 3 times ---")]
    public void MarkAndRepeatLinesHaveNoTagAndDashesAreNoHostname(string line, string? host, string message)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(host, p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal(message, p.Message);
    }

    [Theory]
    [InlineData("2018-06-19T02:13:38.635322-07", -420)]
    [InlineData("2018-06-19T02:13:38.635322-0730", -450)]
    [InlineData("2018-06-19T02:13:38.635322Z+0000", 0)]
    [InlineData("2018-06-19T02:13:38.635322Z+00:00", 0)]
    [InlineData("2018-06-19T02:13:38.635322Z+00", 0)]
    public void IsoTimestampsInBsdLinesAcceptTheOffsetFormsSendersWrite(string stamp, int offsetMinutes)
    {
        var p = Parsed.Of($"<190>{stamp} super mon message", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2018, 6, 19, 2, 13, 38, TimeSpan.FromMinutes(offsetMinutes)).AddTicks(6_353_220), p.Timestamp);
        Assert.Equal("super", p.Hostname);
        Assert.Equal("mon message", p.Message);
    }

    [Fact]
    public void AnIsoTimestampWithoutAnOffsetIsReadThroughTheTimeZoneTable()
    {
        var table = new SourceTimeZoneTable(new SyslogTimeZoneOptions
        {
            Rules = { new SyslogTimeZoneRule { Hostname = "*.nyc.example.com", TimeZone = "America/New_York" } },
        });
        var p = Parsed.Of("<13>2024-07-04T12:00:00 router.nyc.example.com app: x", Received, table);

        Assert.Equal(new DateTimeOffset(2024, 7, 4, 12, 0, 0, TimeSpan.FromHours(-4)), p.Timestamp);
    }

    [Fact]
    public void ABsdTimestampIsReadThroughTheTimeZoneTableBySourceAddress()
    {
        var table = new SourceTimeZoneTable(new SyslogTimeZoneOptions
        {
            Rules = { new SyslogTimeZoneRule { Cidr = "10.1.0.0/16", TimeZone = "Europe/Berlin" } },
        });
        var p = Parsed.Of("<13>Jan 15 12:00:00 host app: x", new DateTimeOffset(2025, 1, 20, 0, 0, 0, TimeSpan.Zero), table, System.Net.IPAddress.Parse("10.1.2.3"));

        Assert.Equal(new DateTimeOffset(2025, 1, 15, 12, 0, 0, TimeSpan.FromHours(1)), p.Timestamp);
    }

    [Fact]
    public void ALineWithoutAPriStillHasItsHeaderReadAndNoFacilityOrSeverity()
    {
        var p = Parsed.Of("Oct 11 22:14:15 mymachine su[230]: 'su root' failed for lonvick on /dev/pts/8", Received);

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.MissingPri, p.Error);
        Assert.Equal(-1, p.Facility);
        Assert.Equal(-1, p.Severity);
        Assert.Equal(new DateTimeOffset(2024, 10, 11, 22, 14, 15, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("mymachine", p.Hostname);
        Assert.Equal("su", p.AppName);
        Assert.Equal("230", p.ProcId);
        Assert.Equal("'su root' failed for lonvick on /dev/pts/8", p.Message);
    }

    [Fact]
    public void StructuredDataAtTheStartOfABsdMessageIsReadAsStructuredData()
    {
        var p = Parsed.Of("<190>Feb 13 21:31:56 74794bfb6795 liblogging-stdlog:  [origin foo.bar=\"baz\"] hello", Received);

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.StructuredDataInMessage, p.Error);
        Assert.Equal("liblogging-stdlog", p.AppName);
        Assert.Equal("[origin foo.bar=\"baz\"]", p.StructuredData);
        Assert.Equal("hello", p.Message);
    }

    [Fact]
    public void StructuredDataAtTheEndOfAnRfc5424MessageWithoutItsOwnIsReadAsStructuredData()
    {
        var p = Parsed.Of("<33>1 2019-11-07T06:09:28+01:00 host.example Manual - - -  Scanning finished [alertMeta@0 oid=\"1.3.6\" shost=\"pc7\"]");

        Assert.Equal(SyslogParseErrors.StructuredDataInMessage, p.Error);
        Assert.Equal("[alertMeta@0 oid=\"1.3.6\" shost=\"pc7\"]", p.StructuredData);
        Assert.Equal("Scanning finished", p.Message);
    }

    [Theory]
    [InlineData("<13>Feb 28 12:00:00 host app: [error] Syslog test", "[error] Syslog test")]
    [InlineData("<13>Feb 28 12:00:00 host app: [ID 702911 user.error] m:SY-mon", "[ID 702911 user.error] m:SY-mon")]
    [InlineData("<13>Feb 28 12:00:00 host app: denied [0x0, 0x0]", "denied [0x0, 0x0]")]
    public void BracketsThatAreNotElementsWithParametersStayInTheMessage(string line, string message)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Null(p.StructuredData);
        Assert.Equal(message, p.Message);
    }

    [Fact]
    public void ATruncatedLineIsPartialWithWhatWasKeptParsed()
    {
        var line = "<13>Feb 28 12:00:00 host app: the first part of a long"u8.ToArray();
        var m = SyslogParser.Parse(line, new SyslogParseContext(Received, null, UtcTimeZoneResolver.Instance) { Truncated = true });

        Assert.Equal(ParseStatus.Partial, m.Status);
        Assert.Equal(SyslogParseErrors.Truncated, m.Error);
        Assert.True(m.Truncated);
        Assert.Equal("the first part of a long", System.Text.Encoding.UTF8.GetString(m.Message.Of(line)));
    }
}
