using System.Buffers;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Pipeline.Edge.Sources.Syslog;
using Pipeline.Edge.Sources.Syslog.Framing;

namespace Pipeline.UnitTests.Edge.Syslog;

/// <summary>Lines captured from real rsyslog and syslog-ng (Data/Syslog/README.txt), parsed field by field.</summary>
public sealed class CapturedPeerLinesTests
{
    // Shortly after the capture; BSD years are chosen relative to this.
    private static readonly DateTimeOffset Received = new(2026, 11, 21, 23, 37, 30, TimeSpan.Zero);

    private const SyslogFormat Bsd = SyslogFormat.Rfc3164;
    private const SyslogFormat Ietf = SyslogFormat.Rfc5424;
    private const string Deny = "Deny tcp src outside:10.1.1.1/1234 dst inside:10.2.2.2/80 by access-group \"OUTSIDE\"";
    private const string Config = "Configured from console by vty0 (10.0.0.1)";
    private const string LinkDown = "Interface GigabitEthernet0/1, changed state to down";
    private const string Accepted = "Accepted publickey for alice from 10.0.0.5 port 50022 ssh2";
    private const string Cron = "(root) CMD (run-parts /etc/cron.hourly)";
    private const string Kernel = "Grüße: ünïcödé ✓ message";
    private const string AppEvent = "An application event with structured data";
    private const string Escapes = "value with escapes in structured data";
    private const string ByUdp = "sent by UDP as RFC 5424";

    [Fact]
    public void RsyslogSyslogProtocol23FormatLinesParseFieldByField()
    {
        Expect[] expected =
        [
            new(1, Ietf, 20, 5, T("2026-11-21T23:37:27.369489Z"), "vm", "myapp", "1234", "ID47", AppEvent),
            new(2, Ietf, 3, 3, T("2026-11-21T23:37:27.371522Z"), "vm", "backup", null, null, Escapes),
            new(3, Ietf, 1, 4, T("2026-11-21T23:37:27.372883Z"), "vm", "udpapp", "77", null, ByUdp),
            // rsyslog keeps the space that began the BSD message, so MSG starts with two spaces; they are left out.
            new(4, Ietf, 4, 6, T("2026-11-21T23:37:27Z"), "vm", "sshd", "4321", null, Accepted),
            new(5, Ietf, 9, 5, T("2026-11-21T23:37:27Z"), "vm", "cron", null, null, Cron),
            new(6, Ietf, 1, 2, T("2026-11-21T23:37:27Z"), "vm", "kernel", null, null, Kernel),
            new(7, Ietf, 23, 5, T("2026-11-21T23:37:27.377453Z"), "localhost", "52", null, null, $"*Mar  1 00:12:34.567: %SYS-5-CONFIG_I: {Config}"),
            new(8, Ietf, 23, 3, T("2026-11-21T23:37:27.377533Z"), "localhost", "123", null, null, $"router1: Mar  1 00:12:34 UTC: %LINK-3-UPDOWN: {LinkDown}"),
            new(9, Ietf, 20, 4, T("2026-11-21T23:37:27.377562Z"), "localhost", "%ASA-4-106023", null, null, Deny),
        ];

        var lines = Lines("rsyslog-rfc5424.txt");
        AssertLines(expected, lines);

        var first = Sd(lines[0]);
        Assert.Equal("1", first.GetProperty("timeQuality").GetProperty("tzKnown").GetString());
        Assert.Equal("Application", first.GetProperty("exampleSDID@32473").GetProperty("eventSource").GetString());
        var escaped = Sd(lines[1]).GetProperty("meta@32473");
        Assert.Equal(@"C:\\temp\\x", escaped.GetProperty("path").GetString());
        Assert.Equal("say \"hi\" [ok]", escaped.GetProperty("quote").GetString());
    }

    [Fact]
    public void RsyslogForwardFormatLinesWithIsoTimestampsParseFieldByField()
    {
        Expect[] expected =
        [
            new(1, Bsd, 20, 5, T("2026-11-21T23:37:27.369489Z"), "vm", "myapp", "1234", null, AppEvent),
            new(2, Bsd, 3, 3, T("2026-11-21T23:37:27.371522Z"), "vm", null, null, null, "backup " + Escapes),
            new(3, Bsd, 1, 4, T("2026-11-21T23:37:27.372883Z"), "vm", "udpapp", "77", null, ByUdp),
            new(4, Bsd, 4, 6, T("2026-11-21T23:37:27Z"), "vm", "sshd", "4321", null, Accepted),
            new(5, Bsd, 9, 5, T("2026-11-21T23:37:27Z"), "vm", "cron", null, null, Cron),
            new(6, Bsd, 1, 2, T("2026-11-21T23:37:27Z"), "vm", "kernel", null, null, Kernel),
            new(7, Bsd, 23, 5, T("2026-11-21T23:37:27.377453Z"), "localhost", "52", null, null, $"*Mar  1 00:12:34.567: %SYS-5-CONFIG_I: {Config}"),
            new(8, Bsd, 23, 3, T("2026-11-21T23:37:27.377533Z"), "localhost", "123", null, null, $"router1: Mar  1 00:12:34 UTC: %LINK-3-UPDOWN: {LinkDown}"),
            new(9, Bsd, 20, 4, T("2026-11-21T23:37:27.377562Z"), "localhost", "ASA", null, "106023", "%ASA-4-106023: " + Deny),
        ];

        AssertLines(expected, Lines("rsyslog-forward.txt"));
    }

    [Theory]
    [InlineData("rsyslog-traditional.txt")]
    [InlineData("rsyslog-traditional-udp.txt")]
    public void RsyslogTraditionalForwardFormatLinesParseFieldByField(string file)
    {
        var at = T("2026-11-21T23:37:27Z");
        Expect[] expected =
        [
            new(1, Bsd, 20, 5, at, "vm", "myapp", "1234", null, AppEvent),
            new(2, Bsd, 3, 3, at, "vm", null, null, null, "backup " + Escapes),
            new(3, Bsd, 1, 4, at, "vm", "udpapp", "77", null, ByUdp),
            new(4, Bsd, 4, 6, at, "vm", "sshd", "4321", null, Accepted),
            new(5, Bsd, 9, 5, at, "vm", "cron", null, null, Cron),
            new(6, Bsd, 1, 2, at, "vm", "kernel", null, null, Kernel),
            new(7, Bsd, 23, 5, at, "localhost", "52", null, null, $"*Mar  1 00:12:34.567: %SYS-5-CONFIG_I: {Config}"),
            new(8, Bsd, 23, 3, at, "localhost", "123", null, null, $"router1: Mar  1 00:12:34 UTC: %LINK-3-UPDOWN: {LinkDown}"),
            new(9, Bsd, 20, 4, at, "localhost", "ASA", null, "106023", "%ASA-4-106023: " + Deny),
        ];

        AssertLines(expected, Lines(file));
    }

    [Theory]
    [InlineData("syslog-ng-rfc3164.txt")]
    [InlineData("syslog-ng-rfc3164-udp.txt")]
    public void SyslogNgNetworkDestinationLinesParseFieldByField(string file)
    {
        var at = T("2026-11-21T23:37:27Z");
        Expect[] expected =
        [
            // network() read logger's RFC 5424 lines as BSD, so they arrive as the message of a BSD line.
            new(5, Bsd, 20, 5, at, "127.0.0.1", null, null, null,
                "1 2026-11-21T23:37:27.379118+00:00 vm myapp 1234 ID47 [timeQuality tzKnown=\"1\" isSynced=\"0\"][exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] " + AppEvent),
            new(10, Bsd, 1, 4, at, "127.0.0.1", null, null, null,
                "1 2026-11-21T23:37:27.382393+00:00 vm udpapp 77 - [timeQuality tzKnown=\"1\" isSynced=\"0\"] " + ByUdp),
            new(12, Bsd, 20, 5, at, "vm", "myapp", "1234", null, AppEvent),
            new(15, Bsd, 3, 3, at, "vm", "backup", null, null, Escapes),
            new(17, Bsd, 1, 4, at, "vm", "udpapp", "77", null, ByUdp),
            new(19, Bsd, 4, 6, at, "vm", "sshd", "4321", null, Accepted),
            new(21, Bsd, 9, 5, at, "vm", "cron", null, null, Cron),
            new(23, Bsd, 1, 2, at, "vm", "kernel", null, null, Kernel),
            // syslog-ng re-dated the Cisco line to "Mar  1" without a year: more than 31 days ahead of receipt, so it is
            // this March gone, as syslog-ng itself read it (its RFC 5424 copy says 2026-03-01).
            new(25, Bsd, 23, 5, T("2026-03-01T00:12:34Z"), "127.0.0.1", "SYS", null, "CONFIG_I", "%SYS-5-CONFIG_I: " + Config),
            new(26, Bsd, 23, 3, at, "127.0.0.1", "router1", null, null, $"Mar  1 00:12:34 UTC: %LINK-3-UPDOWN: {LinkDown}"),
            new(27, Bsd, 20, 4, at, "127.0.0.1", "ASA", null, "106023", "%ASA-4-106023: " + Deny),
        ];

        var lines = Lines(file);
        Assert.Equal(27, lines.Count);
        AssertLines(expected, lines);
        foreach (var n in OwnMessageLines)
        {
            var p = Parsed.Of(lines[n - 1], Received);
            Assert.Equal(ParseStatus.Ok, p.Status);
            Assert.Equal((5, 5, "vm", "syslog-ng", "7639"), (p.Facility, p.Severity, p.Hostname, p.AppName, p.ProcId));
            Assert.StartsWith(n == 1 ? "syslog-ng starting up" : "Syslog connection ", p.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void SyslogNgSyslogDestinationLinesOverUdpParseFieldByField()
    {
        AssertSyslogNgIetf(Lines("syslog-ng-rfc5424-udp.txt"));
    }

    [Fact]
    public void SyslogNgOctetCountedStreamFramesIntoTheSameLinesItSentOverUdp()
    {
        var frames = Frames("syslog-ng-rfc5424-octet-counted.bin", out var reader);

        // syslog-ng writes an LF after each frame, outside MSG-LEN: the framer skips it between frames.
        Assert.Equal(FramingMode.OctetCounting, reader.Mode);
        Assert.Equal(0, reader.MalformedFrames);
        Assert.Equal(Lines("syslog-ng-rfc5424-udp.txt").Select(l => Convert.ToHexString(l)), frames.Select(f => Convert.ToHexString(f)));
        AssertSyslogNgIetf(frames);
    }

    [Fact]
    public void RsyslogOctetCountedStreamFramesIntoTheSameLinesItSentWithLfFraming()
    {
        var frames = Frames("rsyslog-rfc5424-octet-counted.bin", out var reader);

        Assert.Equal(FramingMode.OctetCounting, reader.Mode);
        Assert.Equal(0, reader.MalformedFrames);
        // rsyslog counts the LF it appends inside MSG-LEN; the parser trims it, so the parsed fields match.
        var lines = Lines("rsyslog-rfc5424.txt");
        Assert.Equal(lines.Count, frames.Count);
        for (var i = 0; i < lines.Count; i++)
        {
            Assert.Equal(Parsed.Of(lines[i], Received) with { Raw = default }, Parsed.Of(frames[i], Received) with { Raw = default });
        }
    }

    [Fact]
    public void LfFramedCapturesFrameIntoTheirLines()
    {
        foreach (var file in new[] { "rsyslog-rfc5424.txt", "rsyslog-forward.txt", "syslog-ng-rfc3164.txt" })
        {
            var frames = Frames(file, out var reader);
            Assert.Equal(FramingMode.LineFeed, reader.Mode);
            Assert.Equal(Lines(file).Select(l => Convert.ToHexString(l)), frames.Select(f => Convert.ToHexString(f)));
        }
    }

    private static readonly int[] OwnMessageLines = [1, 2, 3, 4, 6, 7, 9, 11, 13, 14, 16, 18, 20, 22, 24];

    private static void AssertSyslogNgIetf(List<byte[]> lines)
    {
        var at = T("2026-11-21T23:37:27Z");
        Expect[] expected =
        [
            new(5, Ietf, 20, 5, at, "127.0.0.1", "1", null, null,
                "2026-11-21T23:37:27.379118+00:00 vm myapp 1234 ID47 [timeQuality tzKnown=\"1\" isSynced=\"0\"][exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] " + AppEvent),
            new(12, Ietf, 20, 5, at, "vm", "myapp", "1234", "ID47", AppEvent),
            new(15, Ietf, 3, 3, at, "vm", "backup", null, null, Escapes),
            new(17, Ietf, 1, 4, at, "vm", "udpapp", "77", null, ByUdp),
            new(19, Ietf, 4, 6, at, "vm", "sshd", "4321", null, Accepted),
            new(21, Ietf, 9, 5, at, "vm", "cron", null, null, Cron),
            new(23, Ietf, 1, 2, at, "vm", "kernel", null, null, Kernel),
            new(25, Ietf, 23, 5, T("2026-03-01T00:12:34Z"), "127.0.0.1", "%SYS-5-CONFIG_I", null, null, Config),
            new(26, Ietf, 23, 3, at, "127.0.0.1", "router1", null, null, $"Mar  1 00:12:34 UTC: %LINK-3-UPDOWN: {LinkDown}"),
            new(27, Ietf, 20, 4, at, "127.0.0.1", "%ASA-4-106023", null, null, Deny),
        ];

        Assert.Equal(27, lines.Count);
        AssertLines(expected, lines);

        var sequence = 0;
        foreach (var n in OwnMessageLines)
        {
            var p = Parsed.Of(lines[n - 1], Received);
            Assert.Equal(ParseStatus.Ok, p.Status);
            Assert.Equal((Ietf, 5, 5, "vm", "syslog-ng", "7639", (string?)null), (p.Format, p.Facility, p.Severity, p.Hostname, p.AppName, p.ProcId, p.MsgId));
            // syslog-ng numbers its own messages in [meta sequenceId="n"].
            Assert.Equal((++sequence).ToString(CultureInfo.InvariantCulture), Sd(lines[n - 1]).GetProperty("meta").GetProperty("sequenceId").GetString());
        }

        var cisco = Sd(lines[24]);
        Assert.Equal("52", cisco.GetProperty("meta").GetProperty("sequenceId").GetString());
        Assert.Equal("0", cisco.GetProperty("timeQuality").GetProperty("isSynced").GetString());
        Assert.Equal(@"C:\\temp\\x", Sd(lines[14]).GetProperty("meta@32473").GetProperty("path").GetString());
    }

    private static void AssertLines(Expect[] expected, List<byte[]> lines)
    {
        foreach (var e in expected)
        {
            var p = Parsed.Of(lines[e.Line - 1], Received, sourceIp: IPAddress.Loopback);
            var actual = new Expect(e.Line, p.Format, p.Facility, p.Severity, p.Timestamp, p.Hostname, p.AppName, p.ProcId, p.MsgId, p.Message);
            Assert.Equal(e, actual);
            Assert.Equal(ParseStatus.Ok, p.Status);
        }

        // Whatever a real peer sends must parse completely.
        foreach (var line in lines) Assert.Equal(ParseStatus.Ok, Parsed.Of(line, Received).Status);
    }

    private static JsonElement Sd(byte[] line)
    {
        var p = Parsed.Of(line, Received);
        Assert.NotNull(p.StructuredData);
        return JsonDocument.Parse(Parsed.SdJson(p.StructuredData)).RootElement;
    }

    private static DateTimeOffset T(string s) => DateTimeOffset.Parse(s, CultureInfo.InvariantCulture);

    private static string DataPath(string file) => Path.Combine(AppContext.BaseDirectory, "Data", "Syslog", file);

    /// <summary>The file's lines without their LF (the LF-framed captures end every line with one).</summary>
    private static List<byte[]> Lines(string file)
    {
        var bytes = File.ReadAllBytes(DataPath(file));
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != '\n') continue;
            lines.Add(bytes[start..i]);
            start = i + 1;
        }

        Assert.Equal(bytes.Length, start);
        return lines;
    }

    private static List<byte[]> Frames(string file, out SyslogFrameReader reader)
    {
        reader = new SyslogFrameReader(64 * 1024);
        var buffer = new ReadOnlySequence<byte>(File.ReadAllBytes(DataPath(file)));
        var frames = new List<byte[]>();
        while (reader.TryReadFinalFrame(ref buffer, out var frame, out var truncated))
        {
            Assert.False(truncated);
            var bytes = frame.ToArray();
            // Octet-counted senders may count a trailing LF into the frame; compare without it.
            frames.Add(bytes.Length > 0 && bytes[^1] == '\n' ? bytes[..^1] : bytes);
        }

        return frames;
    }

    private sealed record Expect(
        int Line,
        SyslogFormat Format,
        int Facility,
        int Severity,
        DateTimeOffset? Timestamp,
        string? Hostname,
        string? AppName,
        string? ProcId,
        string? MsgId,
        string? Message);
}
