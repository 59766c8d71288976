using Pipeline.Edge.Sources.Syslog;

namespace Pipeline.UnitTests.Edge.Syslog;

public sealed class SyslogParserRfc5424Tests
{
    private const string Bom = "\uFEFF";

    [Fact]
    public void Rfc5424Example1WithoutStructuredDataAndWithABomReadsEveryField()
    {
        var p = Parsed.Of($"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - {Bom}'su root' failed for lonvick on /dev/pts/8");

        Assert.Equal(SyslogFormat.Rfc5424, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Null(p.Error);
        Assert.Equal(4, p.Facility);
        Assert.Equal(2, p.Severity);
        Assert.Equal(new DateTimeOffset(2003, 10, 11, 22, 14, 15, 3, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("mymachine.example.com", p.Hostname);
        Assert.Equal("su", p.AppName);
        Assert.Null(p.ProcId);
        Assert.Equal("ID47", p.MsgId);
        Assert.Null(p.StructuredData);
        Assert.True(p.Raw.MessageHadBom);
        Assert.Equal("'su root' failed for lonvick on /dev/pts/8", p.Message);
    }

    [Fact]
    public void Rfc5424Example2WithMicrosecondsAndANegativeOffsetReadsEveryField()
    {
        var p = Parsed.Of("<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(20, p.Facility);
        Assert.Equal(5, p.Severity);
        Assert.Equal(new DateTimeOffset(2003, 8, 24, 5, 14, 15, TimeSpan.FromHours(-7)).AddTicks(30), p.Timestamp);
        Assert.Equal(TimeSpan.FromHours(-7), p.Timestamp!.Value.Offset);
        Assert.Equal("192.0.2.1", p.Hostname);
        Assert.Equal("myproc", p.AppName);
        Assert.Equal("8710", p.ProcId);
        Assert.Null(p.MsgId);
        Assert.Null(p.StructuredData);
        Assert.False(p.Raw.MessageHadBom);
        Assert.Equal("%% It's time to make the do-nuts.", p.Message);
    }

    [Fact]
    public void Rfc5424Example3WithStructuredDataAndABomReadsEveryField()
    {
        var p = Parsed.Of($"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] {Bom}An application event log entry...");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2003, 10, 11, 22, 14, 15, 3, TimeSpan.Zero), p.Timestamp);
        Assert.Equal("mymachine.example.com", p.Hostname);
        Assert.Equal("evntslog", p.AppName);
        Assert.Null(p.ProcId);
        Assert.Equal("ID47", p.MsgId);
        Assert.Equal("[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"]", p.StructuredData);
        Assert.Equal("""{"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1011"}}""", Parsed.SdJson(p.StructuredData!));
        Assert.True(p.Raw.MessageHadBom);
        Assert.Equal("An application event log entry...", p.Message);
    }

    [Fact]
    public void Rfc5424Example4WithTwoStructuredDataElementsAndNoMessageHasAnAbsentMessage()
    {
        var p = Parsed.Of("<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("evntslog", p.AppName);
        Assert.Equal("ID47", p.MsgId);
        Assert.Equal("[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]", p.StructuredData);
        Assert.Equal(
            """{"exampleSDID@32473":{"iut":"3","eventSource":"Application","eventID":"1011"},"examplePriority@32473":{"class":"high"}}""",
            Parsed.SdJson(p.StructuredData!));
        Assert.Null(p.Message);
        Assert.False(p.Raw.MessageHadBom);
    }

    [Fact]
    public void EveryHeaderFieldMayBeNilvalue()
    {
        var p = Parsed.Of("<0>1 - - - - - - just the message");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(0, p.Facility);
        Assert.Equal(0, p.Severity);
        Assert.Null(p.Timestamp);
        Assert.Null(p.Hostname);
        Assert.Null(p.AppName);
        Assert.Null(p.ProcId);
        Assert.Null(p.MsgId);
        Assert.Null(p.StructuredData);
        Assert.Equal("just the message", p.Message);
    }

    [Fact]
    public void ALineOfNilvaluesWithoutAMessageIsOkWithAnAbsentMessage()
    {
        var p = Parsed.Of("<191>1 - - - - - -");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(23, p.Facility);
        Assert.Equal(7, p.Severity);
        Assert.Null(p.Message);
    }

    [Fact]
    public void AMessageOfOnlyTheSeparatingSpaceIsPresentAndEmpty()
    {
        var p = Parsed.Of("<13>1 - host app - - - ");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("", p.Message);
    }

    [Theory]
    [InlineData("2003-10-11T22:14:15Z", 0L, 0)]
    [InlineData("2003-10-11T22:14:15.1Z", 1_000_000L, 0)]
    [InlineData("2003-10-11T22:14:15.123456Z", 1_234_560L, 0)]
    [InlineData("2003-10-11T22:14:15.1234567Z", 1_234_567L, 0)]
    [InlineData("2003-10-11T22:14:15.123456789123Z", 1_234_567L, 0)]
    [InlineData("2003-10-11T22:14:15+02:00", 0L, 120)]
    [InlineData("2003-10-11T22:14:15.5-03:30", 5_000_000L, -210)]
    [InlineData("2003-10-11t22:14:15z", 0L, 0)]
    public void TimestampsKeepUpToSevenFractionDigitsAndTheirOffset(string stamp, long fractionTicks, int offsetMinutes)
    {
        var p = Parsed.Of($"<13>1 {stamp} host app - - - msg");

        Assert.Equal(ParseStatus.Ok, p.Status);
        var offset = TimeSpan.FromMinutes(offsetMinutes);
        Assert.Equal(new DateTimeOffset(2003, 10, 11, 22, 14, 15, offset).AddTicks(fractionTicks), p.Timestamp);
        Assert.Equal(offset, p.Timestamp!.Value.Offset);
    }

    [Theory]
    [InlineData("2003-10-11T22:14:15")]
    [InlineData("2003-10-11 22:14:15Z")]
    [InlineData("2003-13-11T22:14:15Z")]
    [InlineData("2003-02-29T22:14:15Z")]
    [InlineData("2003-10-11T24:00:00Z")]
    [InlineData("2003-10-11T22:14:15.Z")]
    [InlineData("2003-10-11T22:14:15+15:00")]
    [InlineData("0000-01-01T00:00:00Z")]
    [InlineData("0001-01-01T00:00:00+01:00")]
    [InlineData("9999-12-31T23:59:59-01:00")]
    [InlineData("2003-10-11T22:14:15Zjunk")]
    public void AnUnreadableTimestampMakesTheLinePartialAndKeepsTheOtherFields(string stamp)
    {
        var p = Parsed.Of($"<13>1 {stamp} host app 12 ID - msg");

        Assert.Equal(SyslogFormat.Rfc5424, p.Format);
        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Null(p.Timestamp);
        // The space in some of these stamps shifts the fields, which is what a receiver must do with them.
        Assert.NotNull(p.Message);
        if (!stamp.Contains(' ', StringComparison.Ordinal))
        {
            Assert.Equal(SyslogParseErrors.InvalidTimestamp, p.Error);
            Assert.Equal("host", p.Hostname);
            Assert.Equal("app", p.AppName);
            Assert.Equal("12", p.ProcId);
            Assert.Equal("ID", p.MsgId);
            Assert.Equal("msg", p.Message);
        }
    }

    [Fact]
    public void ALeapSecondIsReadAsTheFirstInstantOfTheNextMinute()
    {
        var p = Parsed.Of("<13>1 2016-12-31T23:59:60Z host app - - - leap");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(new DateTimeOffset(2017, 1, 1, 0, 0, 0, TimeSpan.Zero), p.Timestamp);
    }

    [Fact]
    public void HeaderFieldsAtTheirMaximumLengthsAreOk()
    {
        var host = new string('h', 255);
        var app = new string('a', 48);
        var proc = new string('p', 128);
        var msgId = new string('m', 32);
        var p = Parsed.Of($"<13>1 - {host} {app} {proc} {msgId} - x");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal(host, p.Hostname);
        Assert.Equal(app, p.AppName);
        Assert.Equal(proc, p.ProcId);
        Assert.Equal(msgId, p.MsgId);
    }

    [Theory]
    [InlineData(256, 1, 1, 1, SyslogParseErrors.InvalidHostname)]
    [InlineData(1, 49, 1, 1, SyslogParseErrors.InvalidAppName)]
    [InlineData(1, 1, 129, 1, SyslogParseErrors.InvalidProcId)]
    [InlineData(1, 1, 1, 33, SyslogParseErrors.InvalidMsgId)]
    public void AHeaderFieldOverItsMaximumLengthIsKeptButMakesTheLinePartial(int host, int app, int proc, int msgId, string error)
    {
        var p = Parsed.Of($"<13>1 - {new string('h', host)} {new string('a', app)} {new string('p', proc)} {new string('m', msgId)} - x");

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(error, p.Error);
        Assert.Equal(host, p.Hostname!.Length);
        Assert.Equal(app, p.AppName!.Length);
        Assert.Equal(proc, p.ProcId!.Length);
        Assert.Equal(msgId, p.MsgId!.Length);
        Assert.Equal("x", p.Message);
    }

    [Fact]
    public void AHostnameWithBytesOutsidePrintableAsciiIsKeptButMakesTheLinePartial()
    {
        var p = Parsed.Of("<13>1 - hóst app - - - x");

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.InvalidHostname, p.Error);
        Assert.Equal("hóst", p.Hostname);
        Assert.Equal("x", p.Message);
    }

    [Theory]
    [InlineData("<13>1 2003-10-11T22:14:15Z")]
    [InlineData("<13>1 2003-10-11T22:14:15Z host")]
    [InlineData("<13>1 2003-10-11T22:14:15Z host app")]
    [InlineData("<13>1 2003-10-11T22:14:15Z host app proc")]
    [InlineData("<13>1 2003-10-11T22:14:15Z host app proc msgid")]
    [InlineData("<13>1 2003-10-11T22:14:15Z host app proc msgid ")]
    public void AHeaderThatEndsEarlyIsPartialWithTheFieldsItHad(string line)
    {
        var p = Parsed.Of(line);

        Assert.Equal(SyslogFormat.Rfc5424, p.Format);
        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.TruncatedHeader, p.Error);
        Assert.Equal(new DateTimeOffset(2003, 10, 11, 22, 14, 15, TimeSpan.Zero), p.Timestamp);
        Assert.Null(p.Message);
        Assert.Null(p.StructuredData);
    }

    [Fact]
    public void EscapedQuotesBackslashesAndBracketsInsideValuesAreUnescapedInJson()
    {
        var p = Parsed.Of("""<13>1 - host app - - [x@1 a="say \"hi\"" b="C:\\temp" c="[ok\]" d="keep \n as is"] msg""");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("msg", p.Message);
        Assert.Equal("""{"x@1":{"a":"say \"hi\"","b":"C:\\temp","c":"[ok]","d":"keep \\n as is"}}""", Parsed.SdJson(p.StructuredData!));
    }

    [Fact]
    public void AnUnescapedClosingBracketInsideAQuotedValueIsAccepted()
    {
        var p = Parsed.Of("""<13>1 - host app - - [x@1 a="]"] msg""");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("""[x@1 a="]"]""", p.StructuredData);
        Assert.Equal("msg", p.Message);
    }

    [Theory]
    [InlineData("[x@1 a=\"1\"")]
    [InlineData("""[x@1 a="1"]junk msg""")]
    [InlineData("""-junk msg""")]
    [InlineData("""junk msg""")]
    public void MalformedStructuredDataWithoutAClosedBlockIsKeptInTheMessageAndMakesTheLinePartial(string sdAndMessage)
    {
        var p = Parsed.Of($"<13>1 - host app - - {sdAndMessage}");

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.MalformedStructuredData, p.Error);
        Assert.Null(p.StructuredData);
        Assert.Equal(sdAndMessage, p.Message);
        Assert.Equal("host", p.Hostname);
    }

    [Theory]
    [InlineData("[x@1 a=1] msg")]
    [InlineData("[x@1  a=\"1\"] msg")]
    [InlineData("[] msg")]
    [InlineData("[x@1 a=\"1\" ] msg")]
    [InlineData("[incorrect x] msg")]
    [InlineData("[action:\"Drop\"; tag:\"a]b [c\\]\"; dst:\"81.2.69.144\"] msg")]
    public void AClosedBlockThatIsNotStructuredDataIsSkippedWholeAndTheMessageFollowsIt(string sdAndMessage)
    {
        var p = Parsed.Of($"<13>1 - host app - - {sdAndMessage}");

        Assert.Equal(ParseStatus.Partial, p.Status);
        Assert.Equal(SyslogParseErrors.MalformedStructuredData, p.Error);
        Assert.Null(p.StructuredData);
        Assert.Equal("msg", p.Message);
        Assert.Equal("host", p.Hostname);
    }

    [Theory]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData(" \t ")]
    [InlineData("\n\r\n  ")]
    public void TrailingWhiteSpaceIsTrimmedFromTheMessage(string tail)
    {
        var p = Parsed.Of($"<13>1 - host app - - - message{tail}");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("message", p.Message);
    }

    [Fact]
    public void ATrailingNulIsContentTransportsStripTheirOwnTerminators()
    {
        var p = Parsed.Of("<13>1 - host app - - - message\0");

        Assert.Equal("message\0", p.Message);
    }

    [Fact]
    public void SpacesBeforeTheMessageAreLeftOutAsRsyslogWritesTwoWhenItForwardsABsdMessage()
    {
        var p = Parsed.Of("<174>1 2016-11-14T09:49:23+01:00 10.23.16.6 named 2255 - -  info: client 10.23.56.93#63295");

        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("info: client 10.23.56.93#63295", p.Message);
    }

    [Fact]
    public void LineFeedsInsideTheMessageAreKept()
    {
        var p = Parsed.Of("<78>1 2019-01-17T17:39:00Z localhost CROND 9999 - - some message\nwith embedded newlines\n");

        Assert.Equal("some message\nwith embedded newlines", p.Message);
    }

    [Fact]
    public void ABomIsRecognisedOnlyAtTheStartOfTheMessage()
    {
        var p = Parsed.Of($"<13>1 - host app - - - a{Bom}b");

        Assert.False(p.Raw.MessageHadBom);
        Assert.Equal($"a{Bom}b", p.Message);
    }

    [Fact]
    public void AMessageOfOnlyABomIsEmptyAndFlagged()
    {
        var p = Parsed.Of($"<13>1 - host app - - - {Bom}");

        Assert.True(p.Raw.MessageHadBom);
        Assert.Equal("", p.Message);
    }

    [Fact]
    public void VersionOneFollowedByTextIsNotRfc5424()
    {
        var p = Parsed.Of("<13>1 thing happened");

        Assert.Equal(SyslogFormat.Rfc3164, p.Format);
        Assert.Equal(ParseStatus.Ok, p.Status);
        Assert.Equal("1 thing happened", p.Message);
    }
}
