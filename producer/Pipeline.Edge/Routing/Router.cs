using System.Text;
using System.Text.Json;
using Pipeline.Core;

namespace Pipeline.Edge.Routing;

/// <summary>What the router looks at: a view over one event, built without copying.</summary>
internal ref struct RoutingFacts
{
    public int Facility;
    public int Severity;
    public ReadOnlySpan<byte> App;
    public string Kind;
    public string? Tenant;
    public string Listener;
    public JsonElement Payload;
    public bool HasPayload;
}

/// <summary>A compiled route: its decision plus the counter that does its sampling.</summary>
internal sealed class EventRoute
{
    private long _seen;

    public EventRoute(string name, string topic, int sampleRate, RoutePriority priority, string? keyField)
    {
        Name = name;
        Topic = topic;
        SampleRate = Math.Max(1, sampleRate);
        Priority = priority;
        KeyField = keyField;
    }

    public string Name { get; }
    public string Topic { get; }
    public int SampleRate { get; }
    public RoutePriority Priority { get; }
    public string? KeyField { get; }

    /// <summary>
    /// Keeps exactly 1 in <see cref="SampleRate"/> events, the first of each run of N: deterministic, so the
    /// re-weighted count downstream is exact over any whole number of runs.
    /// </summary>
    public bool Keep() => SampleRate == 1 || (Interlocked.Increment(ref _seen) - 1) % SampleRate == 0;
}

/// <summary>Chooses the route of each event from ordered rules; the first match wins.</summary>
internal sealed class Router
{
    private readonly Rule[] _rules;
    private readonly EventRoute _defaultSyslog;
    private readonly EventRoute _defaultEvents;
    private readonly EventRoute _defaultMetrics;

    public Router(IReadOnlyList<RouteRule> routes, string defaultSyslogTopic = Topics.Syslog,
        string defaultEventsTopic = Topics.Events, string defaultMetricsTopic = Topics.Metrics)
    {
        _rules = routes.Select(Compile).ToArray();
        ReadsPayload = _rules.Any(r => r.FieldPath is not null || r.EventRoute.KeyField is not null);
        _defaultSyslog = new EventRoute("default", defaultSyslogTopic, 1, RoutePriority.Normal, null);
        _defaultEvents = new EventRoute("default", defaultEventsTopic, 1, RoutePriority.Normal, null);
        _defaultMetrics = new EventRoute("default-metrics", defaultMetricsTopic, 1, RoutePriority.Normal, null);
    }

    /// <summary>
    /// Whether a rule matches on a payload field or keys by one: only then does an event whose payload is not
    /// parsed JSON yet (an OTLP record) need it parsed to be routed.
    /// </summary>
    public bool ReadsPayload { get; }

    /// <summary>Every route, the defaults included (for metrics).</summary>
    public IEnumerable<EventRoute> Routes => _rules.Select(r => r.EventRoute).Append(_defaultSyslog).Append(_defaultEvents).Append(_defaultMetrics);

    public EventRoute Choose(in RoutingFacts facts)
    {
        foreach (var rule in _rules)
            if (rule.Matches(facts)) return rule.EventRoute;
        if (facts.Kind == Core.Envelope.EventKinds.Metric) return _defaultMetrics;
        return facts.HasPayload ? _defaultEvents : _defaultSyslog;
    }

    private static Rule Compile(RouteRule o, int index)
    {
        if (string.IsNullOrWhiteSpace(o.Name)) throw new ArgumentException($"route #{index + 1} has no Name");
        if (string.IsNullOrWhiteSpace(o.Topic)) throw new ArgumentException($"route '{o.Name}' has no Topic");
        if (o.SampleRate < 1) throw new ArgumentException($"route '{o.Name}': SampleRate must be at least 1");
        if (o.Match.Field is null && o.Match.Values.Count > 0) throw new ArgumentException($"route '{o.Name}': Values given without Field");
        var m = o.Match;
        return new Rule(
            new EventRoute(o.Name, o.Topic, o.NeverSample ? 1 : o.SampleRate, o.Priority, o.KeyField),
            m.Facility.Count == 0 ? null : m.Facility.Select(SyslogNames.Facility).ToHashSet(),
            m.Severity.Count == 0 ? null : m.Severity.Select(SyslogNames.Severity).ToHashSet(),
            m.App.Count == 0 ? null : m.App.Select(Encoding.UTF8.GetBytes).ToArray(),
            m.Kind.Count == 0 ? null : m.Kind.ToHashSet(StringComparer.OrdinalIgnoreCase),
            m.Tenant.Count == 0 ? null : m.Tenant.ToHashSet(StringComparer.Ordinal),
            m.Listener.Count == 0 ? null : m.Listener.ToHashSet(StringComparer.Ordinal),
            m.Field?.Split('.'),
            m.Values.ToHashSet(StringComparer.Ordinal));
    }

    private sealed record Rule(
        EventRoute EventRoute, HashSet<int>? Facilities, HashSet<int>? Severities, byte[][]? Apps, HashSet<string>? Kinds,
        HashSet<string>? Tenants, HashSet<string>? Listeners, string[]? FieldPath, HashSet<string> Values)
    {
        public bool Matches(in RoutingFacts f)
        {
            if (Facilities is not null && !Facilities.Contains(f.Facility)) return false;
            if (Severities is not null && !Severities.Contains(f.Severity)) return false;
            if (Kinds is not null && !Kinds.Contains(f.Kind)) return false;
            if (Tenants is not null && (f.Tenant is null || !Tenants.Contains(f.Tenant))) return false;
            if (Listeners is not null && !Listeners.Contains(f.Listener)) return false;
            if (Apps is not null && !MatchesApp(f.App)) return false;
            if (FieldPath is not null && !MatchesField(f)) return false;
            return true;
        }

        private bool MatchesApp(ReadOnlySpan<byte> app)
        {
            foreach (var candidate in Apps!)
                if (System.Text.Ascii.EqualsIgnoreCase(candidate, app)) return true;
            return false;
        }

        private bool MatchesField(in RoutingFacts f)
        {
            if (!f.HasPayload || !PayloadPath.TryGet(f.Payload, FieldPath!, out var value)) return false;
            if (Values.Count == 0) return true;
            var text = value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText();
            return text is not null && Values.Contains(text);
        }
    }
}

/// <summary>
/// Dotted-path lookup into a JSON payload. A name may itself hold dots (OpenTelemetry attribute keys such as
/// <c>service.name</c>): where a part is not a member, it is tried joined with the parts after it, so
/// <c>resource.attributes.service.name</c> finds <c>{"resource":{"attributes":{"service.name":…}}}</c>.
/// </summary>
internal static class PayloadPath
{
    public static bool TryGet(JsonElement root, string[] path, out JsonElement value) => TryGet(root, path, 0, out value);

    private static bool TryGet(JsonElement at, string[] path, int index, out JsonElement value)
    {
        value = at;
        if (index == path.Length) return true;
        if (at.ValueKind != JsonValueKind.Object) return false;
        if (at.TryGetProperty(path[index], out var member) && TryGet(member, path, index + 1, out value)) return true;
        for (var end = index + 2; end <= path.Length; end++)
            if (at.TryGetProperty(string.Join('.', path, index, end - index), out member) && TryGet(member, path, end, out value)) return true;
        return false;
    }
}
