using System.Text;
using Pipeline.Consumers.TopK.Extraction;
using Pipeline.Core.Envelope;

namespace Pipeline.UnitTests.TopK;

public sealed class MessageTemplateTests
{
    [Theory]
    [InlineData("Failed password for root from 1.2.3.4 port 22 ssh2", "Failed password for root from <ip> port <num> <*>")]
    [InlineData("Failed password for root from 5.6.7.8 port 4711 ssh2", "Failed password for root from <ip> port <num> <*>")]
    [InlineData("Connection closed by 2001:db8::7 port 50022 [preauth]", "Connection closed by <ip> port <num> [preauth]")]
    [InlineData("session 3f2a9c1b-77aa-4e1b-9a0c-12ab34cd56ef opened for user bob", "session <*> opened for user bob")]
    [InlineData("pid=4242 uid=0 took 12.5 ms (99%)", "pid=<num> uid=<num> took <num> ms (<num>)")]
    [InlineData("client 10.1.2.3:51234 query: example.com IN A", "client <ip> query: example.com IN A")]
    [InlineData("disk /dev/sda1 at 91.5%.", "disk <*> at <num>.")]
    [InlineData("no digits here, just words", "no digits here, just words")]
    [InlineData("", "")]
    public void NumbersAddressesAndIdsAreMaskedAndWordsKept(string message, string template) =>
        Assert.Equal(template, MessageTemplate.Mask(message));

    [Fact]
    public void TheBrief_sExamplesGroupTogether() =>
        Assert.Equal(MessageTemplate.Mask("Failed password for root from 1.2.3.4"), MessageTemplate.Mask("Failed password for root from 5.6.7.8"));

    [Fact]
    public void ALongMessageIsCutWithAnEllipsisAtTheLimit()
    {
        var template = MessageTemplate.Mask(string.Join(' ', Enumerable.Repeat("word", 100)), maxLength: 32);
        Assert.Equal(32, template.Length);
        Assert.EndsWith("…", template, StringComparison.Ordinal);
        Assert.StartsWith("word word word", template, StringComparison.Ordinal);
    }
}

public sealed class MessageTemplateEquivalenceTests
{
    [Fact]
    public void TemplatesAreTheSameAsTheFormerCharByCharMaskingOnAnyMessageAndLength()
    {
        // Messages built from the pieces that matter: words, separators (Unicode white space too), digits, dots
        // and colons around tokens, addresses, hex ids; cut at lengths that fall anywhere in them.
        string[] pieces = ["Failed", "password", "for", "root", "from", "10.1.2.3", "port", "22", "ssh2", ":", ".", "..", "::", ",", ";",
            "(", ")", "[", "]", "=", "|", "\"", "'", "<", ">", "{", "}", " ", "  ", "\t", "\u00a0", "\u2003", "\n", "pid=42", "0x7f3a",
            "2001:db8::7", "[2001:db8::1]:443", "1.2.3.4:5678", "-3.5", "99%", "1.000.000", "3f2a9c1b-77aa", "12:34:56", "ünïcode", "…", "7.", "8:"];
        var random = new Random(3);
        for (var i = 0; i < 20_000; i++)
        {
            var message = string.Concat(Enumerable.Range(0, random.Next(0, 30)).Select(_ => pieces[random.Next(pieces.Length)] + (random.Next(3) == 0 ? " " : "")));
            foreach (var length in new[] { 1, 2, 5, 16, random.Next(1, 80), 256 })
            {
                var expected = new char[length];
                var actual = new char[length];
                var n = ReferenceMessageTemplate.Mask(message, expected, length);
                Assert.Equal(new string(expected, 0, n), new string(actual, 0, MessageTemplate.Mask(message, actual, length)));
            }
        }
    }
}

public sealed class SourceIpTests
{
    [Fact]
    public void TheAddressFoundIsTheSameAsTheFormerCharByCharSearchOnAnyMessage()
    {
        string[] pieces = ["from", "src=", "SRC=", "rhost=", "client", "[client", "unknown[", "]", "host", "by", "peer", "remote_addr=\"", "\"",
            "10.1.2.3", "192.0.2.44:5678", "300.1.1.1", "1.2.3.4.5", ".5.6.7.8", "1.2.3", "2001:db8::7", "[2001:db8::1]:443", "fe80::1%eth0",
            "::1", "12:34:56", "deadbeef", "cafe:", "a.b.c", "port", "22", "ssh2", " ", "  ", ",", ";", ":", ".", "=", "(", ")", "ab12", "0x7f3a"];
        var random = new Random(9);
        for (var i = 0; i < 30_000; i++)
        {
            var message = string.Concat(Enumerable.Range(0, random.Next(0, 16)).Select(_ => pieces[random.Next(pieces.Length)] + (random.Next(2) == 0 ? " " : "")));
            Assert.Equal(ReferenceSourceIp.Find(message), SourceIp.Find(message));
        }
    }

    [Theory]
    [InlineData("Failed password for invalid user admin from 203.0.113.9 port 40022 ssh2", "203.0.113.9")]
    [InlineData("IN=eth0 OUT= DST=10.0.0.1 SRC=198.51.100.23 LEN=60 PROTO=TCP", "198.51.100.23")]
    [InlineData("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.44 user=root", "192.0.2.44")]
    [InlineData("[client 203.0.113.77:51234] AH01630: client denied by server configuration", "203.0.113.77")]
    [InlineData("connect from unknown[198.51.100.5]", "198.51.100.5")]
    [InlineData("NOQUEUE: reject: RCPT from mail.example.com[192.0.2.200]: 554", "192.0.2.200")]
    [InlineData("Accepted publickey for bob from 2001:db8::42 port 22 ssh2", "2001:db8::42")]
    [InlineData("upstream 10.9.8.7 timed out", "10.9.8.7")]
    [InlineData("remote_addr=\"192.0.2.1\" status=500", "192.0.2.1")]
    public void TheAddressAMessageSpeaksOfIsFound(string message, string ip) => Assert.Equal(ip, SourceIp.Find(message));

    [Theory]
    [InlineData("version 1.2.3.4.5 released")]
    [InlineData("value 300.1.1.1 is not an address")]
    [InlineData("at 12:34:56 nothing happened")]
    [InlineData("no address at all")]
    public void WhatIsNotAnAddressIsNotTakenForOne(string message) => Assert.Null(SourceIp.Find(message));
}

public sealed class EnvelopeScannerTests
{
    [Fact]
    public void TheScannerReadsWhatTheCodecReadsFromAnEnvelopeTheEdgeWrites()
    {
        var at = new DateTimeOffset(2025, 3, 14, 12, 34, 56, 789, TimeSpan.Zero);
        var bytes = TopKTestData.Syslog(at, host: "db-\"7\"", app: "postgres", severity: 3, message: "tab\there ünïcode from 192.0.2.1", sampleRate: 4, tenant: "acme");
        var decoded = EnvelopeCodec.Decode(bytes);
        var scanner = new EnvelopeScanner([]);
        var e = new ScannedEvent(0);

        Assert.True(scanner.Scan(bytes, e));
        Assert.Equal(decoded.ReceivedAt, e.ReceivedAt);
        Assert.Equal(decoded.SampleRate, e.SampleRate);
        Assert.Equal(decoded.Syslog!.Severity, e.Severity);
        Assert.Equal(decoded.Syslog.Hostname, e.String(e.Host));
        Assert.Equal(decoded.Syslog.AppName, e.String(e.App));
        Assert.Equal(decoded.Tenant, e.String(e.Tenant));
        Assert.Equal(decoded.Message, e.String(e.Message));
        Assert.Equal(decoded.Source.Ip, e.String(e.SenderIp));
        Assert.Equal(decoded.Kind, e.String(e.Kind));
    }

    [Fact]
    public void PayloadFieldsAreReadByDottedPathAtAnyDepthAndInAnyOrder()
    {
        var bytes = TopKTestData.HttpEvent(TopKTestData.Base,
            """{"other":{"path":"no"},"http":{"status":503,"path":"/api/v1/orders","ok":false},"user":{"id":"u-1","roles":["a","b"]},"path":"top"}""");
        var scanner = new EnvelopeScanner([["http", "path"], ["http", "status"], ["user", "id"], ["path"], ["http", "ok"], ["missing"], ["user", "roles"]]);
        var e = new ScannedEvent(7);

        Assert.True(scanner.Scan(bytes, e));
        Assert.Equal("/api/v1/orders", e.String(e.Payload[0]));
        Assert.Equal("503", e.String(e.Payload[1]));
        Assert.Equal("u-1", e.String(e.Payload[2]));
        Assert.Equal("top", e.String(e.Payload[3]));
        Assert.Equal("false", e.String(e.Payload[4]));
        Assert.False(e.Payload[5].IsPresent);
        Assert.False(e.Payload[6].IsPresent);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"received_at\":\"2025-03-14T12:00:00Z\"}")]
    [InlineData("{\"id\":\"\",\"received_at\":\"2025-03-14T12:00:00Z\"}")]
    [InlineData("{\"id\":\"x\",\"received_at\":\"2025-03-14T12:00:00Z\"")]
    public void WhatIsNotAnEnvelopeIsRefused(string text)
    {
        var scanner = new EnvelopeScanner([]);
        Assert.False(scanner.Scan(Encoding.UTF8.GetBytes(text), new ScannedEvent(0)));
    }

    [Fact]
    public void ScanningReusesItsBufferAcrossEvents()
    {
        var scanner = new EnvelopeScanner([]);
        var e = new ScannedEvent(0);
        var first = TopKTestData.Syslog(TopKTestData.Base, host: new string('h', 5000));
        var second = TopKTestData.Syslog(TopKTestData.Base, host: "short");
        Assert.True(scanner.Scan(first, e));
        Assert.True(scanner.Scan(second, e));
        Assert.Equal("short", e.String(e.Host));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) scanner.Scan(second, e);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024, "scanning allocates per event");
    }
}
