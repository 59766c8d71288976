using System.Net;
using Pipeline.Edge.Routing;
using Pipeline.Kafka.Producing;

namespace Pipeline.Edge;

/// <summary>The edge's configuration (section <c>Edge</c>); every option has a default so a bare start works.</summary>
public sealed class EdgeOptions
{
    public const string Section = "Edge";

    /// <summary>This edge's name in every envelope's <c>source.edge</c>. Default: the machine name.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>
    /// Listeners by name. Defaults: <c>syslog-udp</c> and <c>syslog-tcp</c> on 127.0.0.1:5514, <c>http</c>
    /// on 127.0.0.1:8080, and <c>otlp</c> (HTTP on 127.0.0.1:4318, OTLP's port) turned off unless asked for
    /// (<c>--otlp</c>, or <c>Enabled=true</c>). Configuration adds to or overrides these; set <c>Enabled=false</c> to
    /// turn one off. Every HTTP listener serves every HTTP endpoint, events marked with its own name and tags.
    /// </summary>
    public Dictionary<string, ListenerOptions> Listeners { get; set; } = new(StringComparer.Ordinal)
    {
        ["syslog-udp"] = new() { Protocol = ListenerProtocol.Udp, Bind = "127.0.0.1:5514" },
        ["syslog-tcp"] = new() { Protocol = ListenerProtocol.Tcp, Bind = "127.0.0.1:5514" },
        ["http"] = new() { Protocol = ListenerProtocol.Http, Bind = "127.0.0.1:8080" },
        ["otlp"] = new() { Protocol = ListenerProtocol.Http, Bind = "127.0.0.1:4318", Enabled = false },
    };

    /// <summary>Tags added to every event of every listener (a listener's own tags win on conflict).</summary>
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Ordered routing rules; the first match wins. Unmatched events go to <see cref="DefaultTopics"/>.</summary>
    public List<RouteRule> Routes { get; set; } = [];

    /// <summary>
    /// Where events no route matches go: syslog to <c>syslog</c>, JSON events to <c>events</c>, metrics to
    /// <c>metrics</c> by default. Other names suit a cluster several environments share (<c>staging.syslog</c>).
    /// </summary>
    public DefaultTopicOptions DefaultTopics { get; set; } = new();

    /// <summary>
    /// The edge's producer. <c>MessageTimeoutMs</c> is 0 here (never): an accepted event is retried until Kafka takes
    /// it. A positive value moves a message Kafka has not acknowledged within it to the spool (memory mode) or
    /// produces it again from the spool; it is never dropped for being late (only if the spool is full: buffer_full).
    /// </summary>
    public ProducerSettings Producer { get; set; } = new() { MessageTimeoutMs = 0 };

    /// <summary>The disk spool: overflow while Kafka is away, restarts, and the write-ahead log of disk-mode listeners.</summary>
    public Publishing.Spool.SpoolOptions Spool { get; set; } = new();

    /// <summary>Limits of the in-memory buffer (events handed to the producer, not yet acknowledged).</summary>
    public Publishing.MemoryBufferOptions Memory { get; set; } = new();

    /// <summary>How RFC 3164 lines (which carry no zone) are read, by source address or hostname. Default UTC.</summary>
    public Sources.Syslog.SyslogTimeZoneOptions TimeZones { get; set; } = new();

    /// <summary>HTTP ingest: tokens, anonymous access, size limits.</summary>
    public Sources.Http.HttpIngestOptions Http { get; set; } = new();

    /// <summary>Metrics pulled from Prometheus endpoints (off until a target or target file is named).</summary>
    public Sources.Scrape.ScrapeOptions Scrape { get; set; } = new();

    /// <summary>On shutdown, how long to wait for Kafka to acknowledge what is in flight before spooling it. Default 10 s.</summary>
    public TimeSpan ShutdownFlushTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The router these options describe (rules checked: a bad one throws, naming it).</summary>
    internal Router NewRouter()
    {
        foreach (var (name, topic) in new[] { ("Syslog", DefaultTopics.Syslog), ("Events", DefaultTopics.Events), ("Metrics", DefaultTopics.Metrics) })
            if (string.IsNullOrWhiteSpace(topic)) throw new ArgumentException($"Edge:DefaultTopics:{name} is empty");
        return new Router(Routes, DefaultTopics.Syslog, DefaultTopics.Events, DefaultTopics.Metrics);
    }

    /// <summary>Checks cross-field rules at start-up, naming what is wrong.</summary>
    public void Validate()
    {
        foreach (var (name, listener) in Listeners.Where(l => l.Value.Enabled))
        {
            if (!IPEndPoint.TryParse(listener.Bind, out var endpoint) || endpoint.Port == 0)
                throw new ArgumentException($"listener '{name}': Bind '{listener.Bind}' is not an address:port");
            if (listener.MaxMessageBytes is < 64 or > 16 * 1024 * 1024)
                throw new ArgumentException($"listener '{name}': MaxMessageBytes must be between 64 and 16 MiB");
            if (listener.ReceiveLoops is < 1 or > 64)
                throw new ArgumentException($"listener '{name}': ReceiveLoops must be between 1 and 64");
            if (listener.ProcessLoops is < 1 or > 64)
                throw new ArgumentException($"listener '{name}': ProcessLoops must be between 1 and 64");
            if (listener.QueueBytes is < 1024 * 1024 or > 64L * 1024 * 1024 * 1024)
                throw new ArgumentException($"listener '{name}': QueueBytes must be between 1 MiB and 64 GiB");
            if (listener.MaxConnections < 1) throw new ArgumentException($"listener '{name}': MaxConnections must be at least 1");
            if (listener.IdleTimeout <= TimeSpan.Zero) throw new ArgumentException($"listener '{name}': IdleTimeout must be positive");
            if (listener.MaxConnectionsPerAddress < 1) throw new ArgumentException($"listener '{name}': MaxConnectionsPerAddress must be at least 1");
            if (listener.HandshakeTimeout <= TimeSpan.Zero) throw new ArgumentException($"listener '{name}': HandshakeTimeout must be positive");
            // Syslog over TLS needs a certificate; HTTP is HTTPS when it has one; plain TCP and UDP take none.
            if (listener.Protocol == ListenerProtocol.Tls || (listener.Protocol == ListenerProtocol.Http && listener.CertificateFile is not null))
            {
                if (listener.CertificateFile is null || !File.Exists(listener.CertificateFile))
                    throw new ArgumentException($"listener '{name}': TLS needs CertificateFile (a PEM file); '{listener.CertificateFile}' does not exist");
                if (listener.KeyFile is not null && !File.Exists(listener.KeyFile))
                    throw new ArgumentException($"listener '{name}': KeyFile '{listener.KeyFile}' does not exist");
                if (listener.ClientCaFile is not null && !File.Exists(listener.ClientCaFile))
                    throw new ArgumentException($"listener '{name}': ClientCaFile '{listener.ClientCaFile}' does not exist");
            }
            else if (listener.Protocol == ListenerProtocol.Http && listener.ClientCaFile is not null)
                throw new ArgumentException($"listener '{name}': ClientCaFile needs CertificateFile (client certificates are asked for over HTTPS only)");
            else if (listener.CertificateFile is not null || listener.ClientCaFile is not null)
                throw new ArgumentException($"listener '{name}': CertificateFile and ClientCaFile are for Protocol Tls or Http; this one is {listener.Protocol}");
        }
        var http = Listeners.Where(l => l.Value.Enabled && l.Value.Protocol == ListenerProtocol.Http).ToList();
        var clash = http.GroupBy(l => IPEndPoint.Parse(l.Value.Bind).Port).FirstOrDefault(g => g.Count() > 1);
        if (clash is not null) throw new ArgumentException($"HTTP listeners {string.Join(" and ", clash.Select(l => $"'{l.Key}'"))} share port {clash.Key}");
        _ = NewRouter();
        Spool.Validate();
        Http.Validate();
        Scrape.Validate();
        if (Listeners.ContainsKey(Scrape.Name)) throw new ArgumentException($"Edge:Scrape:Name '{Scrape.Name}' is also a listener's name");
        Memory.Validate();
        if (Producer.MessageTimeoutMs < 0) throw new ArgumentException("Edge:Producer:MessageTimeoutMs must be 0 (never) or positive");
        if (Producer.MessageMaxBytes is < 4096 or > 1_000_000_000)
            throw new ArgumentException("Edge:Producer:MessageMaxBytes must be between 4096 and 1,000,000,000 (librdkafka's message.max.bytes)");
        if (TimeZones.FutureDateWindow < TimeSpan.FromDays(1) || TimeZones.FutureDateWindow > TimeSpan.FromDays(180))
            throw new ArgumentException("Edge:TimeZones:FutureDateWindow must be between 1 and 180 days");
        _ = new Sources.Syslog.SourceTimeZoneTable(TimeZones);
    }
}

/// <summary>The topics of events no route matches.</summary>
public sealed class DefaultTopicOptions
{
    /// <summary>Syslog lines. Default <c>syslog</c>.</summary>
    public string Syslog { get; set; } = Core.Topics.Syslog;

    /// <summary>JSON events (HTTP, WebSocket). Default <c>events</c>.</summary>
    public string Events { get; set; } = Core.Topics.Events;

    /// <summary>Metrics. Default <c>metrics</c>.</summary>
    public string Metrics { get; set; } = Core.Topics.Metrics;
}

public enum ListenerProtocol
{
    Udp,
    Tcp,
    Tls,
    Http,
}

/// <summary>One listener.</summary>
public sealed class ListenerOptions
{
    public ListenerProtocol Protocol { get; set; } = ListenerProtocol.Udp;

    /// <summary>Address and port, e.g. <c>0.0.0.0:514</c>.</summary>
    public string Bind { get; set; } = "127.0.0.1:5514";

    public bool Enabled { get; set; } = true;

    /// <summary>Tags added to this listener's events.</summary>
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Tenant of this listener's events (syslog has no tokens). Default none.</summary>
    public string? Tenant { get; set; }

    /// <summary>Largest datagram, frame or event accepted, in bytes. Default 64 KiB.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>
    /// UDP: threads taking datagrams from the socket (in batches). Default 1: threads sharing one socket take turns on
    /// its lock and each call returns fewer datagrams, so a second thread made a burst slower and dearer (BENCHMARKS.md,
    /// "One receive thread per UDP socket"); the kernel's buffer covers the receive thread's scheduling delays.
    /// </summary>
    public int ReceiveLoops { get; set; } = 1;

    /// <summary>UDP: threads parsing, routing and publishing received datagrams. Default 2.</summary>
    public int ProcessLoops { get; set; } = 2;

    /// <summary>UDP: datagrams received and not yet processed, in bytes at most (a burst's cushion). Default 64 MiB.</summary>
    public long QueueBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>UDP: kernel receive buffer asked for (SO_RCVBUFFORCE as root, else capped by net.core.rmem_max). Default 32 MiB.</summary>
    public int ReceiveBufferBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary><c>Memory</c> (default): accepted = handed to the idempotent producer. <c>Disk</c>: accepted = appended to the on-disk log.</summary>
    public Publishing.BufferMode Buffer { get; set; } = Publishing.BufferMode.Memory;

    /// <summary>TCP/TLS: close a connection that sent nothing for this long. Default 15 minutes.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>TCP/TLS: connections open at once, at most; more are refused. Default 10,000.</summary>
    public int MaxConnections { get; set; } = 10_000;

    /// <summary>
    /// TCP/TLS: connections open at once from one source address, at most; more from it are refused (counted as
    /// <c>address_limit</c>), so one client cannot take every connection. Default 256.
    /// </summary>
    public int MaxConnectionsPerAddress { get; set; } = 256;

    /// <summary>TLS and HTTPS: PEM certificate (chain) file. On an HTTP listener it turns HTTPS on.</summary>
    public string? CertificateFile { get; set; }

    /// <summary>TLS and HTTPS: PEM private key file (may be the certificate file).</summary>
    public string? KeyFile { get; set; }

    /// <summary>TLS and HTTPS: PEM file of CAs whose client certificates are accepted; when set, clients must present one (mutual TLS).</summary>
    public string? ClientCaFile { get; set; }

    /// <summary>TLS and HTTPS: how long a client may take to complete the TLS handshake; a slower one is refused. Default 15 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(15);
}
