namespace Pipeline.Consumers.Siem.Detection;

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
