using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.Consumers.Siem.Detection;

/// <summary>An alert a rule fired, with the events that made it.</summary>
internal sealed record Alert(string Id, DetectionRule Rule, string Key, DateTimeOffset Time, IReadOnlyList<WindowEntry> Evidence);

/// <summary>What detection needs of a classified event: its classification, event time, id, and the group value of each rule that counts it.</summary>
internal sealed record Observation(string Classification, DateTimeOffset Time, string Id, string?[] Keys);

/// <summary>One counted event: its time (event time) and id.</summary>
internal sealed record WindowEntry(DateTimeOffset Time, string Id);

/// <summary>
/// Threshold-in-a-sliding-window detection over event time. Per rule and group (e.g. per source IP) it
/// keeps the matching events whose time is within <c>Window</c> of the newest one; when they reach the
/// threshold it fires one alert carrying them as evidence, empties the window, and stays quiet for that
/// group for <c>Suppress</c> of event time (so a long brute force gives one alert per burst, not one per
/// attempt). Only event times are used, never the clock, so replaying the same events gives the same
/// alerts with the same ids; the whole state is a value (<see cref="Snapshot"/>) the archive checkpoints
/// with its offsets, so a restart neither fires an alert again nor misses one.
/// </summary>
internal sealed class DetectionEngine
{
    /// <summary>Ids of recent alerts kept per rule, to refuse firing the same evidence twice.</summary>
    private const int RecentAlertsKept = 256;

    private readonly Dictionary<string, List<RuleRuntime>> _byClassification = new(StringComparer.Ordinal);
    private readonly List<RuleRuntime> _rules = [];
    private DateTimeOffset _watermark = DateTimeOffset.MinValue;

    public DetectionEngine(IEnumerable<DetectionRule> rules)
    {
        foreach (var rule in rules)
        {
            var runtime = new RuleRuntime(rule);
            _rules.Add(runtime);
            foreach (var name in rule.Classifications)
            {
                if (!_byClassification.TryGetValue(name, out var list)) _byClassification[name] = list = [];
                list.Add(runtime);
            }
        }
    }

    public bool HasRules => _rules.Count > 0;

    /// <summary>Groups held over all rules (for the metrics).</summary>
    public int Groups => _rules.Sum(r => r.Groups.Count);

    /// <summary>Counts one classified event; returns the alerts it completes (usually none).</summary>
    public IReadOnlyList<Alert> Observe(string classification, EcsDocument doc) =>
        Capture(classification, doc) is { } observation ? Observe(observation) : [];

    /// <summary>
    /// What the rules for <paramref name="classification"/> need of the event (its time, id and each rule's group
    /// value), or null when no rule counts it. Reads only the configuration: safe on any thread, before the
    /// events are observed in order.
    /// </summary>
    public Observation? Capture(string classification, EcsDocument doc)
    {
        if (!_byClassification.TryGetValue(classification, out var rules)) return null;
        var keys = new string?[rules.Count];
        for (var i = 0; i < rules.Count; i++) keys[i] = doc.GetString(rules[i].GroupBy);
        return new Observation(classification, EventTime(doc), doc.GetString(EcsKeys.EventId) ?? "", keys);
    }

    /// <summary>Counts one captured event (in the events' order); returns the alerts it completes (usually none).</summary>
    public IReadOnlyList<Alert> Observe(Observation observation)
    {
        var rules = _byClassification[observation.Classification];
        var time = observation.Time;
        if (time > _watermark) _watermark = time;
        List<Alert>? fired = null;
        for (var i = 0; i < rules.Count; i++)
        {
            var key = observation.Keys[i];
            if (string.IsNullOrEmpty(key)) continue;
            if (rules[i].Observe(key, time, observation.Id) is { } alert) (fired ??= []).Add(alert);
        }
        return fired ?? (IReadOnlyList<Alert>)[];
    }

    /// <summary>Drops groups that can no longer matter (older than window and suppression behind the newest event time) and caps their number.</summary>
    public void Prune()
    {
        foreach (var runtime in _rules) runtime.Prune(_watermark);
    }

    public DetectionState Snapshot() => new()
    {
        Watermark = _watermark == DateTimeOffset.MinValue ? null : _watermark,
        Rules = _rules.Select(r => r.Snapshot()).ToList(),
    };

    /// <summary>Restores a snapshot; state of rules no longer configured is dropped, new rules start empty.</summary>
    public void Restore(DetectionState? state)
    {
        foreach (var runtime in _rules) runtime.Clear();
        _watermark = state?.Watermark ?? DateTimeOffset.MinValue;
        if (state is null) return;
        foreach (var saved in state.Rules)
            _rules.Find(r => r.Rule.Name == saved.Rule)?.Restore(saved);
    }

    /// <summary>The event's own time: <c>@timestamp</c>, else when the edge received it.</summary>
    public static DateTimeOffset EventTime(EcsDocument doc) =>
        doc.GetTime(EcsKeys.Timestamp) ?? doc.GetTime(EcsKeys.EventCreated) ?? DateTimeOffset.UnixEpoch;

    /// <summary>
    /// A ULID-shaped id (sortable by the alert's event time) whose random part is a hash of rule, group and
    /// evidence: the same alert always gets the same id, so downstream can drop a re-sent copy.
    /// </summary>
    public static string AlertId(string rule, string key, DateTimeOffset time, IReadOnlyList<WindowEntry> evidence)
    {
        var text = new StringBuilder(rule).Append('\n').Append(key);
        foreach (var e in evidence) text.Append('\n').Append(e.Id);
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString()), digest);
        Span<byte> bytes = stackalloc byte[16];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, (ulong)Math.Max(0, time.ToUnixTimeMilliseconds()) << 16);
        digest[..10].CopyTo(bytes[6..]);
        return Crockford(bytes);
    }

    private static string Crockford(ReadOnlySpan<byte> b)
    {
        const string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        var hi = BinaryPrimitives.ReadUInt64BigEndian(b);
        var lo = BinaryPrimitives.ReadUInt64BigEndian(b[8..]);
        Span<char> d = stackalloc char[26];
        for (var i = 25; i >= 0; i--)
        {
            d[i] = alphabet[(int)(lo & 31)];
            lo = (lo >> 5) | (hi << 59);
            hi >>= 5;
        }
        return new string(d);
    }

    /// <summary>The ECS document of an alert, as archived and forwarded.</summary>
    public static EcsDocument Document(Alert alert, DateTimeOffset ingested)
    {
        var rule = alert.Rule;
        var doc = new EcsDocument();
        doc.Set(EcsFields.Timestamp, alert.Time);
        doc.Set(EcsFields.EventId, alert.Id);
        doc.Set(EcsFields.EventKind, "alert");
        doc.Set(EcsFields.EventCategory, new[] { "intrusion_detection" });
        doc.Set(EcsFields.EventType, new[] { "indicator" });
        doc.Set(EcsFields.EventAction, rule.Name);
        doc.Set(EcsFields.EventCode, rule.Name);
        doc.Set(EcsFields.EventSeverity, (long)rule.Severity);
        doc.Set(EcsFields.EventCreated, ingested);
        doc.Set(EcsFields.EventIngested, ingested);
        doc.Set("event.start", alert.Evidence[0].Time);
        doc.Set("event.end", alert.Evidence[^1].Time);
        doc.Set("rule.name", rule.Name);
        doc.Set("rule.description", rule.Description);
        doc.Set("rule.ruleset", "pipeline-detection");
        doc.Set(EcsFields.Message, string.Create(CultureInfo.InvariantCulture,
            $"{(rule.Description.Length > 0 ? rule.Description : rule.Name)}: {alert.Evidence.Count} events with {rule.GroupBy}={alert.Key} within {rule.Window}"));
        if (rule.GroupBy is EcsFields.SourceIp or EcsFields.DestinationIp or EcsFields.HostIp)
        {
            if (IPAddress.TryParse(alert.Key, out var ip))
            {
                doc.Set(rule.GroupBy, rule.GroupBy == EcsFields.HostIp ? new[] { ip.ToString() } : ip.ToString());
                doc.Set("related.ip", new[] { ip.ToString() });
            }
        }
        else if (rule.GroupBy.StartsWith("user.", StringComparison.Ordinal))
        {
            doc.Set(rule.GroupBy, alert.Key);
            doc.Set("related.user", new[] { alert.Key });
        }
        doc.Set("pipeline.alert.group_by", rule.GroupBy);
        doc.Set("pipeline.alert.group_value", alert.Key);
        doc.Set("pipeline.alert.threshold", (long)rule.Threshold);
        doc.Set("pipeline.alert.window_seconds", rule.Window.TotalSeconds);
        doc.Set("pipeline.alert.count", (long)alert.Evidence.Count);
        doc.Set("pipeline.alert.evidence", alert.Evidence.Select(e => e.Id).ToArray());
        return doc;
    }

    private sealed class RuleRuntime(DetectionRule rule)
    {
        public DetectionRule Rule { get; } = rule;
        public EcsKey GroupBy { get; } = EcsKey.Of(rule.GroupBy);
        public Dictionary<string, Group> Groups { get; } = new(StringComparer.Ordinal);
        private readonly Queue<string> _recentOrder = new();
        private readonly HashSet<string> _recent = new(StringComparer.Ordinal);

        public Alert? Observe(string key, DateTimeOffset time, string id)
        {
            if (!Groups.TryGetValue(key, out var group)) Groups[key] = group = new Group();
            if (time > group.LastSeen) group.LastSeen = time;
            if (group.SuppressedUntil is { } until && time < until) return null;

            // Insert in time order (after equal times, so arrival order breaks ties).
            var events = group.Events;
            var at = events.Count;
            while (at > 0 && events[at - 1].Time > time) at--;
            events.Insert(at, new WindowEntry(time, id));
            var newest = events[^1].Time;
            var from = newest - Rule.Window;
            var stale = 0;
            while (stale < events.Count && events[stale].Time < from) stale++;
            if (stale > 0) events.RemoveRange(0, stale);
            if (events.Count < Rule.Threshold) return null;

            var evidence = events.ToArray();
            events.Clear();
            group.SuppressedUntil = Rule.EffectiveSuppress > TimeSpan.Zero ? newest + Rule.EffectiveSuppress : null;
            var alertId = AlertId(Rule.Name, key, newest, evidence);
            if (!Remember(alertId)) return null;
            return new Alert(alertId, Rule, key, newest, evidence);
        }

        private bool Remember(string alertId)
        {
            if (!_recent.Add(alertId)) return false;
            _recentOrder.Enqueue(alertId);
            while (_recentOrder.Count > RecentAlertsKept) _recent.Remove(_recentOrder.Dequeue());
            return true;
        }

        public void Prune(DateTimeOffset watermark)
        {
            if (Groups.Count == 0) return;
            var horizon = watermark - Rule.Window - Rule.EffectiveSuppress;
            List<string>? gone = null;
            foreach (var (key, group) in Groups)
                if (group.LastSeen < horizon) (gone ??= []).Add(key);
            foreach (var key in gone ?? []) Groups.Remove(key);
            if (Groups.Count <= Rule.MaxGroups) return;
            // Over the cap: forget the groups heard from least recently.
            foreach (var (key, _) in Groups.OrderBy(g => g.Value.LastSeen).ThenBy(g => g.Key, StringComparer.Ordinal).Take(Groups.Count - Rule.MaxGroups).ToList())
                Groups.Remove(key);
        }

        public RuleState Snapshot() => new()
        {
            Rule = Rule.Name,
            Groups = Groups.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => new GroupState
            {
                Key = g.Key,
                LastSeen = g.Value.LastSeen,
                SuppressedUntil = g.Value.SuppressedUntil,
                Events = [.. g.Value.Events],
            }).ToList(),
            Fired = [.. _recentOrder],
        };

        public void Restore(RuleState state)
        {
            Clear();
            foreach (var g in state.Groups)
                Groups[g.Key] = new Group { LastSeen = g.LastSeen, SuppressedUntil = g.SuppressedUntil, Events = [.. g.Events] };
            foreach (var id in state.Fired) Remember(id);
        }

        public void Clear()
        {
            Groups.Clear();
            _recent.Clear();
            _recentOrder.Clear();
        }
    }

    private sealed class Group
    {
        public List<WindowEntry> Events { get; init; } = [];
        public DateTimeOffset LastSeen { get; set; } = DateTimeOffset.MinValue;
        public DateTimeOffset? SuppressedUntil { get; set; }
    }
}

/// <summary>The detection engine's state, as checkpointed with the archive.</summary>
internal sealed class DetectionState
{
    public DateTimeOffset? Watermark { get; set; }
    public List<RuleState> Rules { get; set; } = [];
}

internal sealed class RuleState
{
    public string Rule { get; set; } = "";
    public List<GroupState> Groups { get; set; } = [];
    /// <summary>Ids of the rule's most recent alerts.</summary>
    public List<string> Fired { get; set; } = [];
}

internal sealed class GroupState
{
    public string Key { get; set; } = "";
    public DateTimeOffset LastSeen { get; set; }
    public DateTimeOffset? SuppressedUntil { get; set; }
    public List<WindowEntry> Events { get; set; } = [];
}
