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
    /// on 127.0.0.1:8080. Configuration adds to or overrides these; set <c>Enabled=false</c> to turn one off.
    /// </summary>
    public Dictionary<string, ListenerOptions> Listeners { get; set; } = new(StringComparer.Ordinal)
    {
        ["syslog-udp"] = new() { Protocol = ListenerProtocol.Udp, Bind = "127.0.0.1:5514" },
        ["syslog-tcp"] = new() { Protocol = ListenerProtocol.Tcp, Bind = "127.0.0.1:5514" },
        ["http"] = new() { Protocol = ListenerProtocol.Http, Bind = "127.0.0.1:8080" },
    };

    /// <summary>Tags added to every event of every listener (a listener's own tags win on conflict).</summary>
    public Dictionary<string, string> Tags { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Ordered routing rules; the first match wins. Unmatched syslog goes to <c>syslog</c>, JSON events to <c>events</c>, metrics to <c>metrics</c>.</summary>
    public List<RouteRule> Routes { get; set; } = [];

    public ProducerSettings Producer { get; set; } = new();

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
        }
        var http = Listeners.Values.Where(l => l.Enabled && l.Protocol == ListenerProtocol.Http).ToList();
        if (http.Count > 1) throw new ArgumentException("only one http listener is supported");
        _ = new Router(Routes);
    }
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

    /// <summary>UDP: threads receiving from the socket. Default 2.</summary>
    public int ReceiveLoops { get; set; } = 2;

    /// <summary>UDP: kernel receive buffer asked for (SO_RCVBUFFORCE as root). Default 8 MiB.</summary>
    public int ReceiveBufferBytes { get; set; } = 8 * 1024 * 1024;
}
