namespace Pipeline.Consumers.Siem;

/// <summary>The security sink's settings (section <c>Siem</c>). Every option states its default.</summary>
/// <remarks>
/// Each group (archive, alerts, forwarders, classification and detection rules) is a file of its own and checks its
/// own fields; what needs more than one group (names unique across lists, detection rules naming classifications
/// that exist) is checked here, where every list is in sight.
/// </remarks>
public sealed class SiemOptions
{
    public const string Section = "Siem";

    public ArchiveOptions Archive { get; set; } = new();

    public AlertOptions Alerts { get; set; } = new();

    /// <summary>External SIEMs fed from the archive. Default none (the archive alone).</summary>
    public List<ForwarderOptions> Forwarders { get; set; } = [];

    /// <summary>Ordered classification rules; the first that matches an event wins. Default none (every event unclassified).</summary>
    public List<ClassificationRule> Classification { get; set; } = [];

    /// <summary>Threshold-in-a-sliding-window detection rules. Default none.</summary>
    public List<DetectionRule> Detection { get; set; } = [];

    /// <summary>Checks every rule at start-up, naming what is wrong.</summary>
    public void Validate()
    {
        Archive.Validate();
        Alerts.Validate();
        var names = new HashSet<string>(StringComparer.Ordinal) { AlertOptions.CursorName };
        for (var i = 0; i < Forwarders.Count; i++)
        {
            var f = Forwarders[i];
            f.Validate(i);
            if (!names.Add(f.EffectiveName(i))) throw new ArgumentException($"Siem:Forwarders:{i}: the name '{f.EffectiveName(i)}' is used twice");
        }
        var classNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Classification.Count; i++)
        {
            Classification[i].Validate(i);
            if (!classNames.Add(Classification[i].Name)) throw new ArgumentException($"Siem:Classification:{i}: the name '{Classification[i].Name}' is used twice");
        }
        var ruleNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Detection.Count; i++)
        {
            var rule = Detection[i];
            rule.Validate(i);
            if (!ruleNames.Add(rule.Name)) throw new ArgumentException($"Siem:Detection:{i}: the name '{rule.Name}' is used twice");
            foreach (var c in rule.Classifications)
                if (!classNames.Contains(c)) throw new ArgumentException($"Siem:Detection:{i} ({rule.Name}) names classification '{c}', which no classification rule defines");
        }
    }
}
