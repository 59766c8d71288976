namespace Pipeline.Consumers.Siem;

/// <summary>
/// Fires an alert when at least <see cref="Threshold"/> events of the named classifications share a
/// <see cref="GroupBy"/> value within <see cref="Window"/> of event time.
/// </summary>
public sealed class DetectionRule
{
    /// <summary>Unique rule name (<c>rule.name</c> of the alert).</summary>
    public string Name { get; set; } = "";

    /// <summary>What the alert says (<c>rule.description</c>, the CEF name).</summary>
    public string Description { get; set; } = "";

    /// <summary>Classification rule names whose events count. Required.</summary>
    public List<string> Classifications { get; set; } = [];

    /// <summary>The ECS field events are grouped by. Default <c>source.ip</c>.</summary>
    public string GroupBy { get; set; } = "source.ip";

    /// <summary>Events needed within the window. Required (at least 2).</summary>
    public int Threshold { get; set; }

    /// <summary>Sliding window length, in event time. Required.</summary>
    public TimeSpan Window { get; set; }

    /// <summary>After an alert, the same group cannot alert again for this long (event time). Default: the window.</summary>
    public TimeSpan? Suppress { get; set; }

    /// <summary>Alert severity 0..10. Default 7.</summary>
    public int Severity { get; set; } = 7;

    /// <summary>Most groups kept per rule; the stalest are dropped beyond it (memory stays bounded). Default 100,000.</summary>
    public int MaxGroups { get; set; } = 100_000;

    public TimeSpan EffectiveSuppress => Suppress ?? Window;

    public void Validate(int index)
    {
        var at = $"Siem:Detection:{index}";
        if (string.IsNullOrWhiteSpace(Name) || Name.Any(c => c <= ' ' || c is '|' or '=' or '\\')) throw new ArgumentException($"{at}:Name is required and may not hold spaces, '|', '=' or '\\'");
        if (Classifications.Count == 0) throw new ArgumentException($"{at} ({Name}): Classifications must name at least one classification rule");
        if (string.IsNullOrWhiteSpace(GroupBy)) throw new ArgumentException($"{at} ({Name}): GroupBy is required");
        if (Threshold < 2) throw new ArgumentException($"{at} ({Name}): Threshold must be at least 2");
        if (Window <= TimeSpan.Zero) throw new ArgumentException($"{at} ({Name}): Window must be positive");
        if (EffectiveSuppress < TimeSpan.Zero) throw new ArgumentException($"{at} ({Name}): Suppress may not be negative");
        if (Severity is < 0 or > 10) throw new ArgumentException($"{at} ({Name}): Severity must be 0..10");
        if (MaxGroups < 1) throw new ArgumentException($"{at} ({Name}): MaxGroups must be positive");
    }
}
