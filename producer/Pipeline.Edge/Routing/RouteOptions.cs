namespace Pipeline.Edge.Routing;

/// <summary>
/// One routing rule. Rules are tried in order; the first whose every given condition matches decides the
/// topic. A condition left empty matches everything.
/// </summary>
public sealed class RouteRule
{
    /// <summary>Name in metrics and logs. Required.</summary>
    public string Name { get; set; } = "";

    public RouteMatch Match { get; set; } = new();

    /// <summary>Kafka topic. Required.</summary>
    public string Topic { get; set; } = "";

    /// <summary>Keep 1 in N events (each kept event carries <c>sample_rate</c> N). Default 1 (keep all).</summary>
    public int SampleRate { get; set; } = 1;

    /// <summary>Never sample this route, whatever <see cref="SampleRate"/> says (security data). Default false.</summary>
    public bool NeverSample { get; set; }

    /// <summary>Which events are shed first when buffers fill: <c>low</c> (debug), <c>normal</c> (default), <c>high</c> (security).</summary>
    public RoutePriority Priority { get; set; } = RoutePriority.Normal;

    /// <summary>Payload field (dotted path) whose value keys the Kafka message; default the syslog host or source IP.</summary>
    public string? KeyField { get; set; }
}

/// <summary>Conditions of a route; values within one condition are alternatives.</summary>
public sealed class RouteMatch
{
    /// <summary>Syslog facility names (<c>local7</c>, <c>auth</c>, …) or numbers.</summary>
    public List<string> Facility { get; set; } = [];

    /// <summary>Syslog severity names (<c>debug</c> … <c>emerg</c>) or numbers.</summary>
    public List<string> Severity { get; set; } = [];

    /// <summary>Syslog APP-NAME / tag, compared without regard to case.</summary>
    public List<string> App { get; set; } = [];

    /// <summary>Event kind: log, metric, trace, event.</summary>
    public List<string> Kind { get; set; } = [];

    public List<string> Tenant { get; set; } = [];

    /// <summary>Listener names (e.g. <c>syslog-udp</c>).</summary>
    public List<string> Listener { get; set; } = [];

    /// <summary>A payload field (dotted path) that must hold one of <see cref="Values"/> (JSON events).</summary>
    public string? Field { get; set; }

    public List<string> Values { get; set; } = [];
}

public enum RoutePriority
{
    Low = 0,
    Normal = 1,
    High = 2,
}
