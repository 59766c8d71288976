using System.Globalization;
using System.Net;
using System.Text;
using Pipeline.Core.Envelope;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Sources.Syslog;
using Pipeline.Testing;

namespace Pipeline.Bench;

/// <summary>
/// The SIEM benchmark's stream: RFC 3164 syslog lines as a fleet of Linux servers, netfilter firewalls and Cisco
/// ASAs sends them (sshd failures, invalid users and accepted logins, PAM noise, sudo and su, iptables/UFW verdicts,
/// ASA denies, and the web, mail, cron and systemd lines that make up most of a real stream), each parsed by the
/// edge's own parser and written by the edge's own envelope writer, so the sink reads exactly what the edge
/// publishes. Source addresses follow a Zipf law (a few attackers are most of the failures, so the detection
/// rules fire); hosts and users too. Generated from a seed: the same stream every run.
/// </summary>
internal sealed class SiemBenchStream(int events, int seed, DateTimeOffset start, TimeSpan span)
{
    private static readonly string[] Apps = ["nginx", "postfix/smtpd", "CRON", "systemd", "dockerd", "containerd", "kubelet", "rsyslogd", "ntpd", "app-api"];
    private static readonly string[] Users = ["root", "admin", "ubuntu", "test", "oracle", "postgres", "git", "deploy", "user", "guest", "alice", "bob", "carol", "pi", "ftp"];

    public int Events => events;

    /// <summary>The days the stream's receive times fall on (the NOC contender creates their partitions).</summary>
    public List<DateOnly> Days() =>
        Enumerable.Range(0, (int)Math.Ceiling(span.TotalDays) + 1).Select(d => DateOnly.FromDateTime(start.UtcDateTime.AddDays(d)))
            .Where(d => d <= DateOnly.FromDateTime((start + span).UtcDateTime)).ToList();

    /// <summary>Every envelope in order, with the host it came from (the Kafka key the edge gives a syslog event).</summary>
    public IEnumerable<(byte[] Key, byte[] Envelope)> Envelopes()
    {
        var random = new Random(seed);
        var attackers = new Zipf(50_000, 1.1, random.Next());
        var servers = new Zipf(2_000, 1.0, random.Next());
        var users = new Zipf(3_000, 1.2, random.Next());
        var listener = new ListenerMarkup("syslog-tcp", "tcp", "edge-1", new Dictionary<string, string>(), null);
        var line = new StringBuilder(512);
        for (var i = 0; i < events; i++)
        {
            var at = start + TimeSpan.FromTicks(span.Ticks / events * i);
            var kind = random.Next(100);
            var host = kind switch
            {
                < 54 => "srv-" + servers.Next().ToString("D4", CultureInfo.InvariantCulture),
                < 72 => "fw-" + (random.Next(20) + 1).ToString("D2", CultureInfo.InvariantCulture),
                < 76 => "asa-" + (random.Next(5) + 1).ToString(CultureInfo.InvariantCulture),
                _ => "srv-" + servers.Next().ToString("D4", CultureInfo.InvariantCulture),
            };
            var attacker = Address(attackers.Next());
            var user = kind % 3 == 0 ? Users[random.Next(Users.Length)] : "u" + users.Next().ToString(CultureInfo.InvariantCulture);
            var port = random.Next(1024, 65535).ToString(CultureInfo.InvariantCulture);
            var pid = random.Next(300, 60000).ToString(CultureInfo.InvariantCulture);
            // RFC 3164 time: "Mar  4 09:05:01", the day padded with a space.
            line.Clear().Append('<').Append(Priority(kind)).Append('>').Append(at.ToString("MMM ", CultureInfo.InvariantCulture))
                .Append(at.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2)).Append(at.ToString(" HH:mm:ss", CultureInfo.InvariantCulture))
                .Append(' ').Append(host).Append(' ');
            _ = kind switch
            {
                < 18 => line.Append("sshd[").Append(pid).Append("]: Failed password for ").Append(kind % 2 == 0 ? "invalid user " : "").Append(user)
                    .Append(" from ").Append(attacker).Append(" port ").Append(port).Append(" ssh2"),
                < 24 => line.Append("sshd[").Append(pid).Append("]: Invalid user ").Append(user).Append(" from ").Append(attacker).Append(" port ").Append(port),
                < 28 => line.Append("sshd[").Append(pid).Append("]: Accepted publickey for ").Append(user).Append(" from 192.0.2.").Append(random.Next(1, 250))
                    .Append(" port ").Append(port).Append(" ssh2: ED25519 SHA256:").Append(random.NextInt64().ToString("x16", CultureInfo.InvariantCulture)),
                < 32 => line.Append("sshd[").Append(pid).Append("]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=").Append(attacker)
                    .Append(" user=").Append(user),
                < 36 => line.Append("sshd[").Append(pid).Append("]: Connection closed by authenticating user ").Append(user).Append(' ').Append(attacker)
                    .Append(" port ").Append(port).Append(" [preauth]"),
                < 40 => line.Append("sudo:    ").Append(user).Append(" : TTY=pts/").Append(random.Next(8)).Append(" ; PWD=/home/").Append(user)
                    .Append(" ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"),
                < 41 => line.Append("sudo:    ").Append(user).Append(" : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/").Append(user)
                    .Append(" ; USER=root ; COMMAND=/bin/bash"),
                < 42 => line.Append("su[").Append(pid).Append("]: FAILED SU (to root) ").Append(user).Append(" on pts/2"),
                < 44 => line.Append("sudo: pam_unix(sudo:session): session opened for user root(uid=0) by ").Append(user).Append("(uid=1001)"),
                < 54 => line.Append("systemd-logind[612]: New session ").Append(pid).Append(" of user ").Append(user).Append('.'),
                < 68 => line.Append("kernel: [").Append(random.Next(100000, 9999999)).Append('.').Append(random.Next(100000, 999999)).Append("] IPTABLES-DROP: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=")
                    .Append(attacker).Append(" DST=10.0.0.").Append(random.Next(1, 250)).Append(" LEN=60 TOS=0x00 PREC=0x00 TTL=52 ID=").Append(random.Next(65535))
                    .Append(" DF PROTO=TCP SPT=").Append(port).Append(" DPT=").Append(kind % 2 == 0 ? "22" : "3389").Append(" WINDOW=64240 RES=0x00 SYN URGP=0"),
                < 72 => line.Append("kernel: [").Append(random.Next(100000, 9999999)).Append('.').Append(random.Next(100000, 999999)).Append("] [UFW ALLOW] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=198.51.100.")
                    .Append(random.Next(1, 250)).Append(" DST=10.0.0.5 LEN=52 TOS=0x00 PREC=0x00 TTL=118 ID=").Append(random.Next(65535)).Append(" DF PROTO=TCP SPT=").Append(port).Append(" DPT=443 WINDOW=65535 RES=0x00 SYN URGP=0"),
                < 76 => line.Append("%ASA-4-106023: Deny tcp src outside:").Append(attacker).Append('/').Append(port).Append(" dst inside:10.1.0.").Append(random.Next(1, 250))
                    .Append("/443 by access-group \"outside_access_in\" [0x5063b82f, 0x0]"),
                < 88 => line.Append("nginx[").Append(pid).Append("]: 10.0.").Append(random.Next(256)).Append('.').Append(random.Next(1, 255)).Append(" - - [")
                    .Append(at.ToString("dd/MMM/yyyy:HH:mm:ss", CultureInfo.InvariantCulture)).Append(" +0000] \"GET /api/v1/orders/").Append(random.Next(1_000_000))
                    .Append(" HTTP/1.1\" 200 ").Append(random.Next(200, 20000)).Append(" \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\""),
                < 92 => line.Append("CRON[").Append(pid).Append("]: (").Append(user).Append(") CMD (/usr/local/bin/backup.sh --incremental)"),
                _ => line.Append(Apps[random.Next(Apps.Length)]).Append('[').Append(pid).Append("]: ").Append(Generic(random, user)),
            };
            var bytes = Encoding.UTF8.GetBytes(line.ToString());
            var receivedAt = at.AddMilliseconds(random.Next(5, 400));
            var peer = new IPEndPoint(IPAddress.Parse("10.9." + (i % 200).ToString(CultureInfo.InvariantCulture) + ".7"), 40000 + i % 1000);
            var origin = new IngestOrigin(listener, peer, null);
            var message = SyslogParser.Parse(bytes, new SyslogParseContext(receivedAt, peer.Address, UtcTimeZoneResolver.Instance));
            var envelope = EnvelopeWriter.ForCurrentThread.WriteSyslog(new EnvelopeHeader(receivedAt, EventKinds.Log, origin, 1), bytes, message).ToArray();
            yield return (Encoding.UTF8.GetBytes(host), envelope);
        }
    }

    private static int Priority(int kind) => kind switch
    {
        < 44 => 10 * 8 + 6,   // authpriv.info
        < 54 => 4 * 8 + 6,    // auth.info
        < 72 => 0 * 8 + 4,    // kern.warning
        < 76 => 20 * 8 + 4,   // local4.warning (ASA)
        < 92 => 3 * 8 + 6,    // daemon.info
        _ => 1 * 8 + 5,       // user.notice
    };

    private static string Address(int rank) =>
        string.Create(CultureInfo.InvariantCulture, $"{(rank % 3) switch { 0 => 203, 1 => 198, _ => 45 }}.{rank / 65536 % 256}.{rank / 256 % 256}.{rank % 254 + 1}");

    private static string Generic(Random random, string user) => random.Next(6) switch
    {
        0 => "Started Session " + random.Next(100000) + " of user " + user + ".",
        1 => "level=info ts=2025-03-14T12:00:00Z caller=main.go:142 msg=\"request served\" path=/healthz status=200 duration_ms=" + random.Next(1, 900),
        2 => "connect from unknown[10.0." + random.Next(256) + "." + random.Next(1, 255) + "]",
        3 => "{\"level\":\"warn\",\"msg\":\"slow query\",\"table\":\"orders\",\"ms\":" + random.Next(100, 5000) + ",\"user\":\"" + user + "\"}",
        4 => "Container " + random.NextInt64().ToString("x12", CultureInfo.InvariantCulture) + " health status changed to healthy",
        _ => "Synchronized to time server 10.0.0.1:123 (ntp.example.net), offset +" + random.Next(1, 999) + "us",
    };
}
