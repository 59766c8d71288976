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
    private readonly Dictionary<string, List<RuleWindows>> _byClassification = new(StringComparer.Ordinal);
    private readonly List<RuleWindows> _rules = [];
    private DateTimeOffset _watermark = DateTimeOffset.MinValue;

    public DetectionEngine(IEnumerable<DetectionRule> rules)
    {
        foreach (var rule in rules)
        {
            var runtime = new RuleWindows(rule);
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
}
