using System.Net;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class SyslogParserVendorTests
{
    private static readonly DateTimeOffset Received = new(2024, 3, 1, 0, 15, 0, TimeSpan.Zero);
    private static readonly TimeZoneInfo NewYork = TimeZoneInfo.FindSystemTimeZoneById("America/New_York");

    [Fact]
    public void ACiscoIosLineWithSequenceNumberUnsyncedClockAndMillisecondsReadsEveryPart()
    {
        var p = Parsed.Of("<189>52: *Mar  1 00:12:34.567: %SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.1)", Received);

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(23, p.Facility);
        Assert.Equal(5, p.Severity);
        Assert.Equal("52", p.SequenceNumber);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 0, 12, 34, 567, TimeSpan.Zero), p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal("SYS", p.AppName);
        Assert.Null(p.ProcId);
        Assert.Equal("CONFIG_I", p.MsgId);
        Assert.Equal("%SYS-5-CONFIG_I: Configured from console by vty0 (10.0.0.1)", p.Message);
    }

    [Fact]
    public void ACiscoIosLineWithOriginHostnameAndAUtcLabelIsReadInUtcWhateverTheResolverSays()
    {
        var p = Parsed.Of(
            "<187>123: router1: Mar  1 00:12:34 UTC: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down",
            Received,
            new SyslogParserRfc3164Tests.FixedZone(NewYork));

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(23, p.Facility);
        Assert.Equal(3, p.Severity);
        Assert.Equal("123", p.SequenceNumber);
        Assert.Equal("router1", p.Hostname);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 0, 12, 34, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("LINK", p.AppName);
        Assert.Equal("UPDOWN", p.MsgId);
        Assert.Equal("%LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to down", p.Message);
    }

    [Theory]
    [InlineData("CET", 60)]
    [InlineData("CEST", 120)]
    [InlineData("EST", -300)]
    [InlineData("PDT", -420)]
    [InlineData("JST", 540)]
    public void AKnownZoneLabelAfterTheTimeGivesTheOffsetWhateverTheResolverSays(string label, int offsetMinutes)
    {
        var p = Parsed.Of(
            $"<187>123: router1: Mar  1 00:12:34 {label}: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
            new DateTimeOffset(2024, 3, 1, 6, 0, 0, TimeSpan.Zero),
            new SyslogParserRfc3164Tests.FixedZone(NewYork));

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("router1", p.Hostname);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 0, 12, 34, TimeSpan.FromMinutes(offsetMinutes)), p.Timestamp);
        Assert.Equal("LINK", p.AppName);
    }

    [Fact]
    public void AnUnknownCiscoZoneLabelIsSkippedAndTheZoneComesFromTheResolver()
    {
        var p = Parsed.Of(
            "<187>123: router1: Mar  1 00:12:34 NYC: %LINK-3-UPDOWN: Interface Gi0/1, changed state to down",
            new DateTimeOffset(2024, 3, 1, 6, 0, 0, TimeSpan.Zero),
            new SyslogParserRfc3164Tests.FixedZone(NewYork));

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("router1", p.Hostname);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 0, 12, 34, TimeSpan.FromHours(-5)), p.Timestamp);
        Assert.Equal("%LINK-3-UPDOWN: Interface Gi0/1, changed state to down", p.Message);
    }

    [Fact]
    public void ACiscoNxosHeaderWithTheYearFirstAndAZoneLabelIsRead()
    {
        var p = Parsed.Of("<190>: 2017 Mar 06 09:22:34 CET: %AUTHPRIV-6-SYSTEM_MSG: START: rsync pid=4311 - xinetd[6219]", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Null(p.SequenceNumber);
        Assert.Equal(new DateTimeOffset(2017, 3, 6, 9, 22, 34, TimeSpan.FromHours(1)), p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal("AUTHPRIV", p.AppName);
        Assert.Equal("SYSTEM_MSG", p.MsgId);
        Assert.Equal("%AUTHPRIV-6-SYSTEM_MSG: START: rsync pid=4311 - xinetd[6219]", p.Message);
    }

    [Fact]
    public void PercentTextAfterCiscosTimeColonThatIsNoVendorIdIsTheMessageNotATag()
    {
        var p = Parsed.Of("<190>589265: Feb  8 18:55:31.306: %SEC-11-IPACCESSLOGP: list 177 denied udp 10.0.0.1(53640) -> 10.100.0.1(15600), 1 packet", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("589265", p.SequenceNumber);
        Assert.Equal(new DateTimeOffset(2024, 2, 8, 18, 55, 31, 306, TimeSpan.Zero), p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal("%SEC-11-IPACCESSLOGP: list 177 denied udp 10.0.0.1(53640) -> 10.100.0.1(15600), 1 packet", p.Message);
    }

    [Fact]
    public void ACiscoTimestampWithADotMarkerAndAYearIsRead()
    {
        var p = Parsed.Of("<187>45: .Mar  1 2023 00:12:34.5 UTC: %LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state to up", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("45", p.SequenceNumber);
        Assert.Equal(new DateTimeOffset(2023, 3, 1, 0, 12, 34, 500, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("LINEPROTO", p.AppName);
        Assert.Equal("UPDOWN", p.MsgId);
        Assert.Equal("%LINEPROTO-5-UPDOWN: Line protocol on Interface Gi0/1, changed state to up", p.Message);
    }

    [Fact]
    public void AnAsaLineWithoutTimestampHasTheFacilityAsAppNameAndTheNumberAsMsgId()
    {
        var p = Parsed.Of("<164>%ASA-4-106023: Deny tcp src outside:10.1.1.1/1234 dst inside:10.2.2.2/80 by access-group \"OUTSIDE\"", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(20, p.Facility);
        Assert.Equal(4, p.Severity);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal("ASA", p.AppName);
        Assert.Equal("106023", p.MsgId);
        Assert.Equal("%ASA-4-106023: Deny tcp src outside:10.1.1.1/1234 dst inside:10.2.2.2/80 by access-group \"OUTSIDE\"", p.Message);
    }

    [Fact]
    public void AnAsaLineWithAYearInItsTimestampAndNoHostnameIsRead()
    {
        var p = Parsed.Of("<166>Jan 10 2024 12:00:00: %ASA-6-302013: Built outbound TCP connection 1 for outside:192.0.2.1/443", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 1, 10, 12, 0, 0, TimeSpan.Zero), p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal("ASA", p.AppName);
        Assert.Equal("302013", p.MsgId);
        Assert.Equal("%ASA-6-302013: Built outbound TCP connection 1 for outside:192.0.2.1/443", p.Message);
    }

    [Fact]
    public void AnAsaLineWithADeviceIdReadsItAsTheHostname()
    {
        var p = Parsed.Of("<166>Jan 10 2024 12:00:00 fw01 : %ASA-6-302013: Built outbound TCP connection", Received);

        Assert.Equal("fw01", p.Hostname);
        Assert.Equal("ASA", p.AppName);
        Assert.Equal("302013", p.MsgId);
        Assert.Equal("%ASA-6-302013: Built outbound TCP connection", p.Message);
    }

    [Fact]
    public void AVendorFacilityWithItsOwnDashesIsKeptWhole()
    {
        var p = Parsed.Of("<187>Mar  1 00:12:34 router1 %PKT_INFRA-LINK-3-UPDOWN: Interface Gi0/0/0/1, changed state to Down", Received);

        Assert.Equal("router1", p.Hostname);
        Assert.Equal("PKT_INFRA-LINK", p.AppName);
        Assert.Equal("UPDOWN", p.MsgId);
        Assert.Equal("%PKT_INFRA-LINK-3-UPDOWN: Interface Gi0/0/0/1, changed state to Down", p.Message);
    }

    [Fact]
    public void ANameWithAColonBeforeAVendorIdIsTheHostnameNotATag()
    {
        var p = Parsed.Of("<189>Mar  1 00:12:34 router1: %SYS-5-CONFIG_I: Configured from console", Received);

        Assert.Equal("router1", p.Hostname);
        Assert.Equal("SYS", p.AppName);
        Assert.Equal("CONFIG_I", p.MsgId);
        Assert.Equal("%SYS-5-CONFIG_I: Configured from console", p.Message);
    }

    [Fact]
    public void AVendorIdAfterATagWithPidOnlySetsMsgId()
    {
        var p = Parsed.Of("<189>Mar  1 00:12:34 sw1 ios[12]: %SYS-5-RESTART: System restarted", Received);

        Assert.Equal("sw1", p.Hostname);
        Assert.Equal("ios", p.AppName);
        Assert.Equal("12", p.ProcId);
        Assert.Equal("RESTART", p.MsgId);
        Assert.Equal("%SYS-5-RESTART: System restarted", p.Message);
    }

    [Theory]
    [InlineData("<13>Mar  1 00:12:34 host %% not a vendor id")]
    [InlineData("<13>Mar  1 00:12:34 host %SYS-5-X no colon")]
    public void PercentTextThatIsNotAVendorIdStaysInTheMessage(string line)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("host", p.Hostname);
        Assert.Null(p.AppName);
        Assert.Null(p.MsgId);
        Assert.StartsWith("%", p.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("<13>Mar  1 00:12:34 host %SYS-9-X: severity out of range", "%SYS-9-X")]
    [InlineData("<13>Mar  1 00:12:34 host %SYS-5-: no mnemonic", "%SYS-5-")]
    public void APercentTokenWithAColonThatIsNotAVendorIdIsAnOrdinaryTag(string line, string tag)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal("host", p.Hostname);
        Assert.Equal(tag, p.AppName);
        Assert.Null(p.MsgId);
    }

    [Fact]
    public void AnUnknownUppercaseNameAfterAMillisecondTimestampIsNotMistakenForACiscoZoneLabel()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18.123 SWITCH: job", Received, new SyslogParserRfc3164Tests.FixedZone(NewYork));

        Assert.Equal("SWITCH", p.Hostname);
        Assert.Equal("job", p.Message);
        Assert.Equal(TimeSpan.FromHours(-5), p.Timestamp!.Value.Offset);
    }

    [Fact]
    public void AnUnknownUppercaseNameWithAColonOnAPlainLineIsNotAZoneLabel()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18 SWITCH: job", Received, new SyslogParserRfc3164Tests.FixedZone(NewYork), IPAddress.Loopback);

        Assert.Equal("SWITCH", p.Hostname);
        Assert.Equal("job", p.Message);
        Assert.Equal(TimeSpan.FromHours(-5), p.Timestamp!.Value.Offset);
    }

    [Fact]
    public void AFortiGateLineWithoutAHeaderTakesItsTimeFromDateTimeAndTzAndStaysWhole()
    {
        const string Body = "date=2024-03-01 time=10:00:00 devname=\"fw1\" logid=\"0000000013\" msg=\"tz=+0500 in a quoted value\" tz=\"+0100\"";
        var p = Parsed.Of("<189>" + Body, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.FromHours(1)), p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal(Body, p.Message);
    }

    [Fact]
    public void AFortiGateLineWithoutTzIsReadInTheSourcesZone()
    {
        var p = Parsed.Of("<189>date=2024-03-01 time=10:00:00 devname=fw1 type=traffic", Received, new SyslogParserRfc3164Tests.FixedZone(NewYork));

        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.FromHours(-5)), p.Timestamp);
    }

    [Fact]
    public void ASnareWindowsEventLineHasMSWinEventLogAsAppNameAndItsCriticalityAsProcId()
    {
        var p = Parsed.Of("<13>May  9 11:41:08 192.168.110.11 MSWinEventLog\t1\tSecurity\t4634\tAn account was logged off.", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("192.168.110.11", p.Hostname);
        Assert.Equal("MSWinEventLog", p.AppName);
        Assert.Equal("1", p.ProcId);
        Assert.Equal("Security\t4634\tAn account was logged off.", p.Message);
    }
}
