using System.Text;
using System.Text.Json;
using Pipeline.Consumers.Siem;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Kafka.Consuming;

namespace Pipeline.UnitTests.Siem;

public sealed class EcsNormaliserTests
{
    private static readonly SiemOptions Options = SiemTestData.ShippedOptions();
    private static readonly EcsNormaliser Normaliser = new(new Classifier(Options.Classification));
    private static readonly DateTimeOffset Ingested = SiemTestData.T0.AddMinutes(5);

    private static (EcsDocument Doc, ClassificationRule? Rule) Normalise(string app, string message, string senderIp = "10.20.30.40", string? pid = "4242")
    {
        var e = SiemTestData.Syslog(app, message, senderIp: senderIp, pid: pid);
        return Normaliser.Normalise(SiemTestData.Record(e, 7), e, null, Ingested);
    }

    private static JsonElement Json(EcsDocument doc)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream)) doc.WriteTo(writer);
        return JsonDocument.Parse(stream.ToArray()).RootElement.Clone();
    }

    [Fact]
    public void AFailedSshPasswordIsAnAuthenticationFailureWithTheClientAsSourceAndTheSendingDeviceAsHost()
    {
        var (doc, rule) = Normalise("sshd", "Failed password for invalid user admin from 203.0.113.66 port 40214 ssh2");

        Assert.Equal("sshd-failed-password", rule?.Name);
        Assert.Equal("203.0.113.66", doc.GetString("source.ip"));
        Assert.Equal(40214L, doc.Get("source.port"));
        Assert.Equal("admin", doc.GetString("user.name"));
        Assert.Equal(new[] { "authentication" }, doc.Get("event.category"));
        Assert.Equal("ssh_login", doc.GetString("event.action"));
        Assert.Equal("failure", doc.GetString("event.outcome"));
        // The device that sent the line is the host, never the source.
        Assert.Equal(new[] { "10.20.30.40" }, doc.Get("host.ip"));
        Assert.Equal("bastion01", doc.GetString("host.name"));
        Assert.Equal("sshd", doc.GetString("process.name"));
        Assert.Equal(4242L, doc.Get("process.pid"));
        Assert.Null(doc.Get("observer.ip"));
    }

    [Fact]
    public void TheThreeTimesAreWhenItHappenedWhenTheEdgeGotItAndWhenTheSinkWroteIt()
    {
        var (doc, _) = Normalise("sshd", "Accepted publickey for alice from 192.0.2.10 port 51122 ssh2: ED25519 SHA256:x");
        var json = Json(doc);

        Assert.Equal("2025-03-12T09:58:00.000000Z", json.GetProperty("@timestamp").GetString());
        Assert.Equal("2025-03-12T09:58:00.250000Z", json.GetProperty("event").GetProperty("created").GetString());
        Assert.Equal("2025-03-12T10:03:00.000000Z", json.GetProperty("event").GetProperty("ingested").GetString());
    }

    [Fact]
    public void SyslogHeaderFieldsGoUnderLogSyslogWithTheirNames()
    {
        var (doc, _) = Normalise("sshd", "Accepted password for bob from 198.51.100.23 port 60211 ssh2");
        var syslog = Json(doc).GetProperty("log").GetProperty("syslog");

        Assert.Equal(10, syslog.GetProperty("facility").GetProperty("code").GetInt32());
        Assert.Equal("authpriv", syslog.GetProperty("facility").GetProperty("name").GetString());
        Assert.Equal("informational", syslog.GetProperty("severity").GetProperty("name").GetString());
        Assert.Equal(86, syslog.GetProperty("priority").GetInt32());
        Assert.Equal("bastion01", syslog.GetProperty("hostname").GetString());
    }

    [Fact]
    public void AnUnclassifiedEventIsKeptWithEverythingItCarried()
    {
        var (doc, rule) = Normalise("systemd-logind", "New session 412 of user alice.");

        Assert.Null(rule);
        Assert.Null(doc.Get("event.category"));
        Assert.Equal("New session 412 of user alice.", doc.GetString("message"));
        Assert.StartsWith("<86>", doc.GetString("event.original"), StringComparison.Ordinal);
        Assert.Equal("syslog", doc.GetString("pipeline.topic"));
        Assert.Equal(7L, doc.Get("pipeline.offset"));
    }

    [Fact]
    public void ARecordThatIsNotAnEnvelopeIsKeptRawWithTheReason()
    {
        var record = new ConsumedRecord("syslog", 2, 99, null, Encoding.UTF8.GetBytes("not json at all"), SiemTestData.T0);

        var (doc, rule) = Normaliser.Normalise(record, null, "not a v1 envelope: bad", Ingested);

        Assert.Null(rule);
        Assert.Equal("syslog-2-99", doc.GetString("event.id"));
        Assert.Equal("not json at all", doc.GetString("event.original"));
        Assert.Equal("not a v1 envelope: bad", doc.GetString("error.message"));
    }

    [Fact]
    public void AClientNameInsteadOfAnAddressIsKeptAsSourceAddressButNotAsSourceIp()
    {
        var (doc, _) = Normalise("sshd", "Failed password for root from scanner.example.net port 40214 ssh2");

        Assert.Null(doc.Get("source.ip"));
        Assert.Equal("scanner.example.net", doc.GetString("source.address"));
    }

    public static TheoryData<string, string, string, string, string> SecurityLines => new()
    {
        // app, message, expected rule, field, value
        { "sshd", "Accepted publickey for alice from 192.0.2.10 port 51122 ssh2: ED25519 SHA256:abc", "sshd-accepted", "user.name", "alice" },
        { "sshd", "Accepted password for bob from 2001:db8::7 port 60211 ssh2", "sshd-accepted", "source.ip", "2001:db8::7" },
        { "sshd", "Failed password for root from 203.0.113.66 port 40210 ssh2", "sshd-failed-password", "user.name", "root" },
        { "sshd", "Invalid user oracle from 203.0.113.66 port 40218", "sshd-invalid-user", "user.name", "oracle" },
        { "sudo", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx", "sudo-command", "process.command_line", "/usr/bin/systemctl restart nginx" },
        { "sudo", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id", "sudo-command", "user.effective.name", "root" },
        { "sudo", "     bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash", "sudo-denied", "user.name", "bob" },
        { "sudo", "    eve : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=/bin/cat /etc/shadow", "sudo-denied", "process.command_line", "/bin/cat /etc/shadow" },
        { "sudo", "pam_unix(sudo:auth): authentication failure; logname=bob uid=1002 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=bob", "sudo-auth-failure", "user.name", "bob" },
        { "su", "(to root) alice on pts/0", "su-success", "user.target.name", "root" },
        { "su", "FAILED SU (to root) bob on pts/1", "su-failure", "user.name", "bob" },
        { "useradd", "new user: name=mallory, UID=1005, GID=1005, home=/home/mallory, shell=/bin/bash, from=/dev/pts/0", "user-created", "user.target.name", "mallory" },
        { "useradd", "new group: name=mallory, GID=1005", "group-created", "group.name", "mallory" },
        { "usermod", "add 'mallory' to group 'sudo'", "user-added-to-group", "group.name", "sudo" },
        { "usermod", "add 'mallory' to shadow group 'sudo'", "user-added-to-group", "user.target.name", "mallory" },
        { "usermod", "lock user 'bob' password", "user-modified", "user.target.name", "bob" },
        { "kernel", "[12345.678901] IPTABLES-DROP: IN=eth0 OUT= MAC=00:11:22:33:44:55:66:77:88:99:aa:bb:08:00 SRC=203.0.113.7 DST=192.0.2.1 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0", "firewall-deny", "destination.port", "22" },
        { "kernel", "[UFW BLOCK] IN=eth0 OUT= MAC=00:11 SRC=198.51.100.9 DST=192.0.2.1 LEN=40 PROTO=UDP SPT=5353 DPT=161 LEN=20", "firewall-deny", "network.transport", "udp" },
        { "kernel", "nft-drop-in: IN=ens3 OUT= MAC=52:54 SRC=203.0.113.8 DST=192.0.2.5 LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1", "firewall-deny", "source.ip", "203.0.113.8" },
        { "kernel", "[UFW ALLOW] IN=eth0 OUT= MAC=00:11 SRC=192.0.2.10 DST=192.0.2.1 LEN=60 PROTO=TCP SPT=51000 DPT=443", "firewall-allow", "event.outcome", "success" },
        { "kernel", "IPTABLES-ACCEPT: IN= OUT=eth0 SRC=192.0.2.1 DST=8.8.8.8 LEN=60 PROTO=UDP SPT=40000 DPT=53", "firewall-allow", "observer.egress.interface.name", "eth0" },
    };

    [Theory]
    [MemberData(nameof(SecurityLines))]
    public void CommonSecurityLinesAreClassifiedByTheShippedRules(string app, string message, string expectedRule, string field, string value)
    {
        var (doc, rule) = Normalise(app, message);

        Assert.Equal(expectedRule, rule?.Name);
        Assert.Equal(value, doc.GetString(field));
    }

    public static TheoryData<string, string, string, string> AsaLines => new()
    {
        // raw line, expected rule, source ip, event.code
        { "<164>Mar 12 10:00:01 fw01 %ASA-4-106023: Deny tcp src outside:203.0.113.9/51515 dst inside:10.0.0.5/22 by access-group \"OUTSIDE_IN\" [0x0, 0x0]", "asa-deny", "203.0.113.9", "106023" },
        { "<161>Mar 12 10:00:01 fw01 %ASA-1-106001: Inbound TCP connection denied from 203.0.113.10/4000 to 10.0.0.5/80 flags SYN  on interface outside", "asa-deny", "203.0.113.10", "106001" },
        { "<162>Mar 12 10:00:01 fw01 %ASA-2-106006: Deny inbound UDP from 203.0.113.11/53 to 10.0.0.5/53 on interface outside", "asa-deny", "203.0.113.11", "106006" },
        { "<164>Mar 12 10:00:01 fw01 %ASA-4-106100: access-list OUTSIDE_IN denied tcp outside/203.0.113.12(51515) -> inside/10.0.0.5(22) hit-cnt 1 first hit [0x0, 0x0]", "asa-deny", "203.0.113.12", "106100" },
        { "<166>Mar 12 10:00:01 fw01 %ASA-6-302013: Built inbound TCP connection 12345 for outside:198.51.100.4/51515 (198.51.100.4/51515) to inside:10.0.0.5/443 (10.0.0.5/443)", "asa-allow", "198.51.100.4", "302013" },
    };

    [Theory]
    [MemberData(nameof(AsaLines))]
    public void CiscoAsaMessagesAreClassifiedFromTheWholeLineAndTheFirewallIsTheObserver(string raw, string expectedRule, string sourceIp, string code)
    {
        // The walking-skeleton parser takes "%ASA-4-106023" for the tag; the rule reads the whole line.
        var tag = raw[(raw.IndexOf("%ASA", StringComparison.Ordinal))..raw.IndexOf(": ", StringComparison.Ordinal)];
        var e = SiemTestData.Syslog(tag, raw[(raw.IndexOf(": ", StringComparison.Ordinal) + 2)..], host: "fw01", pid: null, senderIp: "10.0.0.1");
        e.Raw = raw;

        var (doc, rule) = Normaliser.Normalise(SiemTestData.Record(e, 1), e, null, Ingested);

        Assert.Equal(expectedRule, rule?.Name);
        Assert.Equal(sourceIp, doc.GetString("source.ip"));
        Assert.Equal(code, doc.GetString("event.code"));
        Assert.Equal("firewall", doc.GetString("observer.type"));
        Assert.Equal(new[] { "10.0.0.1" }, doc.Get("observer.ip"));
        Assert.Equal("fw01", doc.GetString("observer.hostname"));
    }

    [Fact]
    public void TheSameDocumentAlwaysSerialisesToTheSameBytes()
    {
        var (a, _) = Normalise("sshd", "Failed password for root from 203.0.113.66 port 40210 ssh2");
        var (b, _) = Normalise("sshd", "Failed password for root from 203.0.113.66 port 40210 ssh2");
        b.Set("event.id", a.GetString("event.id"));

        Assert.Equal(Json(a).GetRawText(), Json(b).GetRawText());
    }

    [Fact]
    public void ARuleNamingAGroupThatIsNoEcsFieldIsRefusedAtStartUp()
    {
        var rule = new ClassificationRule { Name = "bad", Message = "(?<hostname>\\S+)" };

        var error = Assert.Throws<ArgumentException>(() => rule.Validate(0));
        Assert.Contains("hostname", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADetectionRuleNamingAnUnknownClassificationIsRefusedAtStartUp()
    {
        var options = SiemTestData.ShippedOptions();
        options.Detection.Add(new DetectionRule { Name = "x", Classifications = ["nope"], Threshold = 2, Window = TimeSpan.FromSeconds(1) });

        var error = Assert.Throws<ArgumentException>(options.Validate);
        Assert.Contains("nope", error.Message, StringComparison.Ordinal);
    }
}

public sealed class CanonicalIpTests
{
    [Theory]
    [InlineData("203.0.113.66")]
    [InlineData("0.0.0.0")]
    [InlineData("255.255.255.255")]
    [InlineData("10.0.0.1")]
    [InlineData("01.2.3.4")]
    [InlineData("1.2.3.04")]
    [InlineData("1.2.3")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    [InlineData("1..2.3")]
    [InlineData("1.2.3.")]
    [InlineData(".1.2.3")]
    [InlineData("0x7f.0.0.1")]
    [InlineData("2130706433")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4 ")]
    [InlineData("::1")]
    [InlineData("2001:DB8::1")]
    [InlineData("::ffff:10.0.0.9")]
    [InlineData("scanner.example.net")]
    [InlineData("")]
    public void AnAddressIsWrittenAsIPAddressPrintsIt(string text) =>
        Assert.Equal(System.Net.IPAddress.TryParse(text, out var ip) ? ip.ToString() : null, EcsNormaliser.CanonicalIp(text));

    [Fact]
    public void AnyStringOfDigitsAndDotsIsWrittenAsIPAddressPrintsIt()
    {
        var random = new Random(7);
        for (var i = 0; i < 50_000; i++)
        {
            var text = new string(Enumerable.Range(0, random.Next(1, 17)).Select(_ => "0123456789.."[random.Next(12)]).ToArray());
            Assert.True((System.Net.IPAddress.TryParse(text, out var ip) ? ip.ToString() : null) == EcsNormaliser.CanonicalIp(text), text);
        }
    }
}
