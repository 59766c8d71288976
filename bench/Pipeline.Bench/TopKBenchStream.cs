using Pipeline.Testing;
using System.Buffers;
using System.Globalization;
using System.Text.Json;
using Pipeline.Core.Envelope;

namespace Pipeline.Bench;

/// <summary>
/// The benchmark's telemetry stream: syslog envelopes shaped as the edge writes them (id, received_at, source,
/// tenant, sample_rate, syslog header fields, message, raw line), generated chunk by chunk from a seed so that
/// every contender reads byte-for-byte the same stream without holding all of it in memory. Keys follow Zipf
/// laws with long tails: 100,000 hosts, 1,000,000 source addresses, 5,000 user names (letters only) inside the messages
/// (so thousands of distinct templates), 40 apps, 20 tenants; one event in ten is sampled 1 in 4.
/// </summary>
internal sealed class TopKBenchStream
{
    private static readonly string[] Formats =
    [
        "Failed password for {user} from {ip} port {n} ssh2",
        "Invalid user {user} from {ip} port {n}",
        "Accepted publickey for {user} from {ip} port {n} ssh2: RSA SHA256:{id}",
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip} user={user}",
        "DROP IN=eth0 OUT= MAC={id} SRC={ip} DST=10.0.0.1 LEN={n} TOS=0x00 PREC=0x00 TTL=52 ID={n} PROTO=TCP SPT={n} DPT=22",
        "[client {ip}:{n}] AH01630: client denied by server configuration: /var/www/{user}/index.php",
        "connect from unknown[{ip}]",
        "NOQUEUE: reject: RCPT from unknown[{ip}]: 554 5.7.1 <{user}@example.com>: Relay access denied",
        "upstream timed out (110: Connection timed out) while reading response header from upstream, client: {ip}, request: \"GET /api/{user} HTTP/1.1\"",
        "session {id} opened for user {user} by (uid=0)",
        "Out of memory: Killed process {n} ({user}) total-vm:{n}kB",
        "CRON[{n}]: ({user}) CMD (/usr/local/bin/backup.sh)",
    ];

    private readonly int _events;
    private readonly int _seed;
    private readonly DateTimeOffset _start;
    private readonly TimeSpan _span;

    public TopKBenchStream(int events, int seed, DateTimeOffset start, TimeSpan span)
    {
        _events = events;
        _seed = seed;
        _start = start;
        _span = span;
    }

    public int Events => _events;

    /// <summary>
    /// A generator positioned at the start of the stream. Its tables and its chunk buffer are allocated here,
    /// before a measurement starts, so they do not count as a contender's memory.
    /// </summary>
    public Generator Open(int chunkSize) => new(this, chunkSize);

    internal sealed class Generator
    {
        private readonly TopKBenchStream _stream;
        private readonly int _chunkSize;
        private readonly Random _random;
        private readonly Zipf _hosts;
        private readonly Zipf _ips;
        private readonly Zipf _users;
        private readonly Zipf _apps;
        private readonly Zipf _tenants;
        private readonly ArrayBufferWriter<byte> _buffer;
        private readonly Utf8JsonWriter _json;
        private readonly System.Text.StringBuilder _message = new(512);
        private int _next;

        public Generator(TopKBenchStream stream, int chunkSize)
        {
            _stream = stream;
            _chunkSize = chunkSize;
            _random = new Random(stream._seed);
            _hosts = new Zipf(100_000, 1.1, _random.Next());
            _ips = new Zipf(1_000_000, 1.0, _random.Next());
            _users = new Zipf(5_000, 1.2, _random.Next());
            _apps = new Zipf(40, 1.0, _random.Next());
            _tenants = new Zipf(20, 1.0, _random.Next());
            _buffer = new ArrayBufferWriter<byte>(chunkSize * 1024);
            _json = new Utf8JsonWriter(_buffer, new JsonWriterOptions { SkipValidation = true });
        }

        /// <summary>The next chunk as one buffer plus (offset, length) pairs; false at the end of the stream.</summary>
        public bool Next(List<(int Offset, int Length)> spans, out ReadOnlyMemory<byte> buffer)
        {
            spans.Clear();
            _buffer.ResetWrittenCount();
            while (spans.Count < _chunkSize && _next < _stream._events)
            {
                var start = _buffer.WrittenCount;
                Write(_next++);
                spans.Add((start, _buffer.WrittenCount - start));
            }
            buffer = _buffer.WrittenMemory;
            return spans.Count > 0;
        }

        private void Write(int i)
        {
            var random = _random;
            var at = _stream._start + TimeSpan.FromTicks(_stream._span.Ticks / _stream._events * i);
            var host = "host-" + _hosts.Next().ToString("D5", CultureInfo.InvariantCulture);
            var app = "app" + _apps.Next().ToString(CultureInfo.InvariantCulture);
            var ipRank = _ips.Next();
            var ip = $"{10 + ipRank / 65536 % 200}.{ipRank / 256 % 256}.{ipRank % 256}.{(ipRank * 31) % 254 + 1}";
            var message = _message.Clear().Append(Formats[random.Next(Formats.Length)])
                .Replace("{ip}", ip).Replace("{user}", UserName(_users.Next()));
            for (var at2 = message.ToString().IndexOf("{n}", StringComparison.Ordinal); at2 >= 0; at2 = message.ToString().IndexOf("{n}", StringComparison.Ordinal))
                message.Remove(at2, 3).Insert(at2, random.Next(1, 65535).ToString(CultureInfo.InvariantCulture));
            message.Replace("{id}", random.NextInt64().ToString("x16", CultureInfo.InvariantCulture));
            var text = message.ToString();

            var json = _json;
            json.Reset(_buffer);
            json.WriteStartObject();
            json.WriteString(EnvelopeJson.Id, "01J" + i.ToString("D23", CultureInfo.InvariantCulture));
            json.WriteString(EnvelopeJson.ReceivedAt, at);
            json.WriteString(EnvelopeJson.Kind, "log"u8);
            json.WriteStartObject(EnvelopeJson.Source);
            json.WriteString(EnvelopeJson.OfSource.Transport, "udp"u8);
            json.WriteString(EnvelopeJson.OfSource.Ip, "192.0.2.17"u8);
            json.WriteNumber(EnvelopeJson.OfSource.Port, 514);
            json.WriteString(EnvelopeJson.OfSource.Edge, "edge-1"u8);
            json.WriteEndObject();
            json.WriteString(EnvelopeJson.Tenant, "tenant" + _tenants.Next().ToString(CultureInfo.InvariantCulture));
            json.WriteNumber(EnvelopeJson.SampleRate, i % 10 == 0 ? 4 : 1);
            json.WriteStartObject(EnvelopeJson.Syslog);
            json.WriteNumber(EnvelopeJson.OfSyslog.Facility, 4);
            json.WriteNumber(EnvelopeJson.OfSyslog.Severity, random.Next(8));
            json.WriteString(EnvelopeJson.OfSyslog.Timestamp, at);
            json.WriteString(EnvelopeJson.OfSyslog.Hostname, host);
            json.WriteString(EnvelopeJson.OfSyslog.AppName, app);
            json.WriteString(EnvelopeJson.OfSyslog.Procid, random.Next(100, 30000).ToString(CultureInfo.InvariantCulture));
            json.WriteString(EnvelopeJson.OfSyslog.Rfc, "5424"u8);
            json.WriteEndObject();
            json.WriteString(EnvelopeJson.Message, text);
            json.WriteString(EnvelopeJson.Raw, $"<38>1 {at:O} {host} {app} - - - {text}");
            json.WriteString(EnvelopeJson.ParseStatus, "ok"u8);
            json.WriteEndObject();
            json.Flush();
        }
    }

    /// <summary>A user name of letters only (a name with digits would be masked out of the template).</summary>
    private static string UserName(int rank)
    {
        Span<char> name = stackalloc char[8];
        var n = 0;
        do
        {
            name[n++] = (char)('a' + rank % 26);
            rank /= 26;
        } while (rank > 0);
        return "u" + new string(name[..n]);
    }
}
