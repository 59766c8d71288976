using Pipeline.Consumers.Siem.Normalising;

namespace Pipeline.Consumers.Siem.Detection;

/// <summary>
/// One rule's sliding windows, one per group (e.g. per source IP), with each group's suppression and the ids of the
/// rule's recent alerts. Kept apart from <see cref="DetectionEngine"/>, which routes events to rules and owns the
/// watermark: this is the per-rule state that fires, is pruned, and is checkpointed rule by rule.
/// </summary>
internal sealed class RuleWindows(DetectionRule rule)
{
    /// <summary>Ids of recent alerts kept per rule, to refuse firing the same evidence twice.</summary>
    private const int RecentAlertsKept = 256;

    public DetectionRule Rule { get; } = rule;
    public EcsKey GroupBy { get; } = EcsKey.Of(rule.GroupBy);
    public Dictionary<string, GroupWindow> Groups { get; } = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();
    private readonly HashSet<string> _recent = new(StringComparer.Ordinal);

    public Alert? Observe(string key, DateTimeOffset time, string id)
    {
        if (!Groups.TryGetValue(key, out var group)) Groups[key] = group = new GroupWindow();
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
        var alertId = AlertDocument.AlertId(Rule.Name, key, newest, evidence);
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
            Groups[g.Key] = new GroupWindow { LastSeen = g.LastSeen, SuppressedUntil = g.SuppressedUntil, Events = [.. g.Events] };
        foreach (var id in state.Fired) Remember(id);
    }

    public void Clear()
    {
        Groups.Clear();
        _recent.Clear();
        _recentOrder.Clear();
    }
}

/// <summary>One group's window of a rule: its events in time order, when it was last heard from, and its suppression.</summary>
internal sealed class GroupWindow
{
    public List<WindowEntry> Events { get; init; } = [];
    public DateTimeOffset LastSeen { get; set; } = DateTimeOffset.MinValue;
    public DateTimeOffset? SuppressedUntil { get; set; }
}
