using System.Net;
using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class SyslogParserRfc3164Tests
{
    private static readonly DateTimeOffset Received = new(2024, 10, 20, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Rfc3164Example1ReadsHostnameTagAndMessage()
    {
        var p = Parsed.Of("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8", Received);

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(4, p.Facility);
        Assert.Equal(2, p.Severity);
        Assert.Equal(new DateTimeOffset(2024, 10, 11, 22, 14, 15, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("mymachine", p.Hostname);
        Assert.Equal("su", p.AppName);
        Assert.Null(p.ProcId);
        Assert.Null(p.MsgId);
        Assert.Null(p.StructuredData);
        Assert.Equal("'su root' failed for lonvick on /dev/pts/8", p.Message);
    }

    [Fact]
    public void Rfc3164Example2AsTheOriginalSentItIsBareTextShippedWholeAsFailedWithNothingGuessed()
    {
        var p = Parsed.Of("Use the BFG!", Received);

        Assert.Equal(SyslogFormat.Unknown, p.Format);
        Assert.Equal(ParseStatus.Failed, p.Status);
        Assert.Equal(SyslogParseErrors.NoHeader, p.Error);
        Assert.Equal(-1, p.Facility);
        Assert.Equal(-1, p.Severity);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal("Use the BFG!", p.Message);
    }

    [Fact]
    public void Rfc3164Example2AsTheRelayForwardedItReadsTheSpacePaddedDayAndTheAddressAsHostname()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(1, p.Facility);
        Assert.Equal(5, p.Severity);
        Assert.Equal(new DateTimeOffset(2024, 2, 5, 17, 32, 18, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("10.0.0.99", p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal("Use the BFG!", p.Message);
    }

    [Fact]
    public void Rfc3164Example3ReadsCstAsTheHostnameAsTheRfcSaysARelayWould()
    {
        const string Line = "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK # Devices: Mixer=OK, Jelly_Injector=OK, Frier=OK # Transport: Conveyer1=OK, Conveyer2=OK # %%";
        var p = Parsed.Of(Line, Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(20, p.Facility);
        Assert.Equal(5, p.Severity);
        Assert.Equal(new DateTimeOffset(2024, 8, 24, 5, 34, 0, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("CST", p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal(Line[(Line.IndexOf("1987", StringComparison.Ordinal))..], p.Message);
    }

    [Fact]
    public void Rfc3164Example4HasAnInvalidTimestampSoTheWholeContentIsTheMessage()
    {
        var p = Parsed.Of("<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!", Received);

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(0, p.Facility);
        Assert.Equal(0, p.Severity);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal("1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!", p.Message);
    }

    [Fact]
    public void Rfc3164Example4AsTheRelayForwardedItKeepsTheOriginalTextInTheMessage()
    {
        var p = Parsed.Of("<0>Oct 22 10:52:12 scapegoat 1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 10, 22, 10, 52, 12, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("scapegoat", p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal("1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!", p.Message);
    }

    [Fact]
    public void ATagWithAPidBecomesAppNameAndProcId()
    {
        var p = Parsed.Of("<86>Mar  3 04:05:06 web01 sshd[4321]: Accepted publickey for alice", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("web01", p.Hostname);
        Assert.Equal("sshd", p.AppName);
        Assert.Equal("4321", p.ProcId);
        Assert.Equal("Accepted publickey for alice", p.Message);
    }

    [Fact]
    public void ATagWithPathCharactersIsOneAppName()
    {
        var p = Parsed.Of("<22>Mar  3 04:05:06 mx postfix/smtpd[99]: connect from unknown", Received);

        Assert.Equal("postfix/smtpd", p.AppName);
        Assert.Equal("99", p.ProcId);
        Assert.Equal("connect from unknown", p.Message);
    }

    [Fact]
    public void ATagWithAPidButNoColonIsStillATag()
    {
        var p = Parsed.Of("<165>Nov 21 23:37:27 vm myapp[1234] An application event", Received);

        Assert.Equal("vm", p.Hostname);
        Assert.Equal("myapp", p.AppName);
        Assert.Equal("1234", p.ProcId);
        Assert.Equal("An application event", p.Message);
    }

    [Fact]
    public void ABareWordAfterTheHostnameIsTheStartOfTheMessageNotATag()
    {
        var p = Parsed.Of("<27>Nov 21 23:37:27 vm backup value with escapes", Received);

        Assert.Equal("vm", p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal("backup value with escapes", p.Message);
    }

    [Fact]
    public void ALineWhoseFirstTokenIsATagHasNoHostname()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18 sshd[123]: msg", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Null(p.Hostname);
        Assert.Equal("sshd", p.AppName);
        Assert.Equal("123", p.ProcId);
        Assert.Equal("msg", p.Message);
    }

    [Fact]
    public void ANameWithAColonRightAfterTheTimestampIsTheSenderNamingItselfAndTheRestIsTheMessage()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18 fw-edge1: Warning: job done", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("fw-edge1", p.Hostname);
        Assert.Null(p.AppName);
        Assert.Equal("Warning: job done", p.Message);
    }

    [Fact]
    public void ANameWithAColonMayBeFollowedByATagWithAPid()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18 fw-edge1: sshd[42]: session opened", Received);

        Assert.Equal("fw-edge1", p.Hostname);
        Assert.Equal("sshd", p.AppName);
        Assert.Equal("42", p.ProcId);
        Assert.Equal("session opened", p.Message);
    }

    [Fact]
    public void AnIpv6HostnameIsNotMistakenForATag()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18 2001:db8::1 app: hi", Received);

        Assert.Equal("2001:db8::1", p.Hostname);
        Assert.Equal("app", p.AppName);
        Assert.Equal("hi", p.Message);
    }

    [Fact]
    public void AnEmptyMessageAfterATagIsPresentAndEmpty()
    {
        var p = Parsed.Of("<13>Feb  5 17:32:18 host app:", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("app", p.AppName);
        Assert.Equal("", p.Message);
    }

    [Fact]
    public void AnRfc3164LineWithoutAYearIsFromTheReceiveYearWhenThatIsNotAheadOfTheReceiveTime()
    {
        var p = Parsed.Of("<13>Jun 10 08:00:00 host app: x", new DateTimeOffset(2024, 6, 15, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2024, 6, 10, 8, 0, 0, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void ADateUpTo31DaysAheadIsThisYearsAndOneFurtherAheadIsLastYears()
    {
        var received = new DateTimeOffset(2024, 6, 15, 0, 0, 0, TimeSpan.Zero);

        Assert.Equal(new DateTimeOffset(2024, 7, 16, 0, 0, 0, TimeSpan.Zero), Parsed.Of("<13>Jul 16 00:00:00 host app: x", received).Timestamp);
        Assert.Equal(new DateTimeOffset(2023, 7, 16, 0, 0, 1, TimeSpan.Zero), Parsed.Of("<13>Jul 16 00:00:01 host app: x", received).Timestamp);
    }

    [Fact]
    public void AJanuary5LineReceivedOnDecember4Is32DaysAheadSoItIsFromTheJanuaryJustGone()
    {
        var p = Parsed.Of("<13>Jan  5 10:00:00 host app: x", new DateTimeOffset(2026, 12, 4, 10, 0, 0, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2026, 1, 5, 10, 0, 0, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void AJanuary5LineReceivedOnDecember6IsNextYearsAcrossNewYear()
    {
        var p = Parsed.Of("<13>Jan  5 10:00:00 host app: x", new DateTimeOffset(2026, 12, 6, 10, 0, 0, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2027, 1, 5, 10, 0, 0, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void TheFutureDateWindowIsConfigurable()
    {
        var line = "<13>Jan  5 10:00:00 host app: x"u8.ToArray();
        var received = new DateTimeOffset(2026, 11, 20, 10, 0, 0, TimeSpan.Zero);
        var context = new SyslogParseContext(received, null, UtcTimeZoneResolver.Instance) { FutureDateWindow = TimeSpan.FromDays(60) };

        Assert.Equal(new DateTimeOffset(2027, 1, 5, 10, 0, 0, TimeSpan.Zero), SyslogParser.Parse(line, context).Timestamp);
        Assert.Equal(new DateTimeOffset(2026, 1, 5, 10, 0, 0, TimeSpan.Zero), Parsed.Of(line, received).Timestamp);
    }

    [Fact]
    public void ADecember31LineReceivedOnJanuary1IsFromLastYear()
    {
        var p = Parsed.Of("<13>Dec 31 23:59:59 host app: x", new DateTimeOffset(2025, 1, 1, 0, 0, 2, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2024, 12, 31, 23, 59, 59, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void AJanuary1LineReceivedOnDecember31IsFromNextYear()
    {
        var p = Parsed.Of("<13>Jan  1 00:00:01 host app: x", new DateTimeOffset(2024, 12, 31, 23, 59, 58, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 1, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void ANewYearLineFromAZoneAheadOfUtcIsPlacedInTheNewYearWithThatZonesOffset()
    {
        // 23:30 UTC on Dec 31 is already 00:30 on Jan 1 in Berlin: a Berlin "Jan  1 00:29" line is a minute old.
        var zones = new FixedZone(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        var p = Parsed.Of("<13>Jan  1 00:29:00 host app: x", new DateTimeOffset(2024, 12, 31, 23, 30, 0, TimeSpan.Zero), zones);

        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 29, 0, TimeSpan.FromHours(1)), p.Timestamp);
    }

    [Fact]
    public void February29IsPlacedInTheNearestLeapYear()
    {
        var p = Parsed.Of("<13>Feb 29 12:00:00 host app: x", new DateTimeOffset(2025, 1, 10, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(new DateTimeOffset(2024, 2, 29, 12, 0, 0, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void February29WithNoLeapYearNearbyIsAnInvalidTimestamp()
    {
        var p = Parsed.Of("<13>Feb 29 12:00:00 host app: x", new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.InvalidTimestamp, p.Error);
        Assert.Null(p.Timestamp);
        Assert.Equal("host", p.Hostname);
        Assert.Equal("app", p.AppName);
        Assert.Equal("x", p.Message);
    }

    [Theory]
    [InlineData("<13>Feb 30 12:00:00 host app: x")]
    [InlineData("<13>Feb  5 25:00:00 host app: x")]
    [InlineData("<13>Feb 32 12:00:00 host app: x")]
    public void SomethingThatStartsLikeABsdTimestampButIsNotOneIsKeptAsTextAndMakesTheLinePartial(string line)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.InvalidTimestamp, p.Error);
        Assert.Null(p.Timestamp);
        Assert.NotNull(p.Message);
    }

    [Fact]
    public void TheTimeZoneComesFromTheResolverGivenTheSourceAddressAndHostname()
    {
        var zones = new RecordingResolver(TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));
        var ip = IPAddress.Parse("10.1.2.3");
        var p = Parsed.Of("<13>Jul  4 12:00:00 nyc-router app: x", Received, zones, ip);

        Assert.Equal(new DateTimeOffset(2024, 7, 4, 12, 0, 0, TimeSpan.FromHours(-4)), p.Timestamp);
        Assert.Equal(TimeSpan.FromHours(-4), p.Timestamp!.Value.Offset);
        Assert.Equal(ip, zones.LastIp);
        Assert.Equal("nyc-router", zones.LastHostname);
    }

    [Fact]
    public void WinterTimeInTheSameZoneUsesTheStandardOffset()
    {
        var zones = new FixedZone(TimeZoneInfo.FindSystemTimeZoneById("America/New_York"));
        var p = Parsed.Of("<13>Jan 15 12:00:00 host app: x", new DateTimeOffset(2025, 1, 15, 17, 0, 0, TimeSpan.Zero), zones);

        Assert.Equal(TimeSpan.FromHours(-5), p.Timestamp!.Value.Offset);
        Assert.Equal(new DateTimeOffset(2025, 1, 15, 17, 0, 0, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void ATimeInTheSpringForwardGapUsesTheOffsetFromBeforeTheGap()
    {
        // Berlin skipped 02:00-03:00 on 2024-03-31; 02:30 read with +01:00 is 01:30 UTC (03:30 summer time).
        var zones = new FixedZone(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        var p = Parsed.Of("<13>Mar 31 02:30:00 host app: x", new DateTimeOffset(2024, 3, 31, 1, 31, 0, TimeSpan.Zero), zones);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 3, 31, 1, 30, 0, TimeSpan.Zero), p.Timestamp);
        Assert.Equal(TimeSpan.FromHours(1), p.Timestamp!.Value.Offset);
    }

    [Theory]
    [InlineData(0, 10, 2)]
    [InlineData(1, 10, 1)]
    public void ATimeThatHappensTwiceInTheFallBackHourTakesTheOffsetNearestTheReceiveTime(int receivedUtcHour, int receivedUtcMinute, int expectedOffsetHours)
    {
        // Berlin repeated 02:00-03:00 on 2024-10-27: 02:30 was 00:30 UTC (+02:00) and again 01:30 UTC (+01:00).
        var zones = new FixedZone(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        var received = new DateTimeOffset(2024, 10, 27, receivedUtcHour, receivedUtcMinute, 0, TimeSpan.Zero);
        var p = Parsed.Of("<13>Oct 27 02:30:00 host app: x", received, zones);

        Assert.Equal(TimeSpan.FromHours(expectedOffsetHours), p.Timestamp!.Value.Offset);
        Assert.Equal(new DateTime(2024, 10, 27, 2, 30, 0), p.Timestamp.Value.DateTime);
    }

    [Fact]
    public void AnIsoTimestampInABsdLineIsReadWithItsOffset()
    {
        var zones = new RecordingResolver(TimeZoneInfo.Utc);
        var p = Parsed.Of("<13>2024-03-01T10:00:00.123+01:00 host app: msg", Received, zones);

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, 123, TimeSpan.FromHours(1)), p.Timestamp);
        Assert.Equal("host", p.Hostname);
        Assert.Equal("app", p.AppName);
        Assert.Equal("msg", p.Message);
        Assert.Equal(0, zones.Calls);
    }

    [Fact]
    public void AnIsoTimestampWithoutOffsetInABsdLineIsReadInTheSourcesZone()
    {
        var zones = new FixedZone(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        var p = Parsed.Of("<13>2024-03-01T10:00:00 host app: msg", Received, zones);

        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, TimeSpan.FromHours(1)), p.Timestamp);
    }

    [Fact]
    public void AnApplicationStyleDateAndTimeWithASpaceIsReadInTheSourcesZone()
    {
        var zones = new FixedZone(TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"));
        var p = Parsed.Of("<13>2024-03-01 10:00:00.250 host app: msg", Received, zones);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2024, 3, 1, 10, 0, 0, 250, TimeSpan.FromHours(1)), p.Timestamp);
        Assert.Equal("host", p.Hostname);
        Assert.Equal("msg", p.Message);
    }

    [Fact]
    public void ADateFollowedByWordsIsTextNotABrokenTimestamp()
    {
        var p = Parsed.Of("<13>2024-03-01 maintenance window starts", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Null(p.Timestamp);
        Assert.Equal("2024-03-01 maintenance window starts", p.Message);
    }

    [Theory]
    [InlineData("<13>2024-13-01T10:00:00Z host app: x")]
    [InlineData("<13>2024-03-01T10:00:00+25:00 host app: x")]
    [InlineData("<13>2024-03-01T10:00 host app: x")]
    public void SomethingThatStartsLikeAnIsoTimestampButIsNotOneMakesTheLinePartial(string line)
    {
        var p = Parsed.Of(line, Received);

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.InvalidTimestamp, p.Error);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal(line[4..], p.Message);
    }

    [Fact]
    public void ALineWithoutATimestampHasNoHostnameButMayHaveATag()
    {
        var p = Parsed.Of("<13>sshd[42]: hello", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Equal("sshd", p.AppName);
        Assert.Equal("42", p.ProcId);
        Assert.Equal("hello", p.Message);
    }

    [Fact]
    public void ALineWithOnlyAPriIsOkWithAnEmptyMessage()
    {
        var p = Parsed.Of("<13>", Received);

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("", p.Message);
        Assert.Null(p.Timestamp);
    }

    [Fact]
    public void ADayWrittenWithALeadingZeroOrASingleSpaceIsAccepted()
    {
        Assert.Equal(new DateTimeOffset(2024, 2, 5, 1, 2, 3, TimeSpan.Zero), Parsed.Of("<13>Feb 05 01:02:03 h a: x", Received).Timestamp);
        Assert.Equal(new DateTimeOffset(2024, 2, 5, 1, 2, 3, TimeSpan.Zero), Parsed.Of("<13>Feb 5 01:02:03 h a: x", Received).Timestamp);
    }

    [Fact]
    public void AUtf8BomAtTheStartOfABsdMessageIsFlaggedAndLeftOut()
    {
        var p = Parsed.Of("<13>Feb  5 01:02:03 h a: \uFEFFhello", Received);

        Assert.True(p.Raw.MessageHadBom);
        Assert.Equal("hello", p.Message);
    }

    /// <summary>Resolves every source to one zone.</summary>
    internal sealed class FixedZone(TimeZoneInfo zone) : ITimeZoneResolver
    {
        public TimeZoneInfo Resolve(IPAddress? sourceIp, ReadOnlySpan<byte> hostname) => zone;
    }

    private sealed class RecordingResolver(TimeZoneInfo zone) : ITimeZoneResolver
    {
        public int Calls { get; private set; }
        public IPAddress? LastIp { get; private set; }
        public string? LastHostname { get; private set; }

        public TimeZoneInfo Resolve(IPAddress? sourceIp, ReadOnlySpan<byte> hostname)
        {
            Calls++;
            LastIp = sourceIp;
            LastHostname = System.Text.Encoding.UTF8.GetString(hostname);
            return zone;
        }
    }
}
