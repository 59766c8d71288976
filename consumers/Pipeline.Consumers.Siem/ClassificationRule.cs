using System.Text.RegularExpressions;

namespace Pipeline.Consumers.Siem;

/// <summary>
/// A classification rule: when every pattern given matches, the event gets these ECS values, and the
/// named groups of the patterns fill ECS fields (<c>(?&lt;source_ip&gt;…)</c> → <c>source.ip</c>; see
/// <see cref="Normalising.EcsFields.Extractable"/>).
/// </summary>
public sealed class ClassificationRule
{
    /// <summary>Unique; written to <c>event.code</c> unless a pattern extracts one, and the CEF signature id.</summary>
    public string Name { get; set; } = "";

    /// <summary>Pattern on the program (<c>process.name</c>, the syslog APP-NAME/tag). Default: any.</summary>
    public string? Process { get; set; }

    /// <summary>Pattern on the message text. Default: any.</summary>
    public string? Message { get; set; }

    /// <summary>Pattern on the whole received line (<c>event.original</c>), for devices whose tag the parser cannot tell (Cisco <c>%ASA-</c>). Default: any.</summary>
    public string? Original { get; set; }

    /// <summary><c>event.category</c> values (ECS allowed values, e.g. authentication, iam, network, process, session).</summary>
    public List<string> Category { get; set; } = [];

    /// <summary><c>event.type</c> values (e.g. start, denied, allowed, creation, change).</summary>
    public List<string> Type { get; set; } = [];

    /// <summary><see cref="Category"/> as the array every event of this rule shares (made on first use, after binding).</summary>
    internal string[] CategoryValues => _categoryValues ??= [.. Category];

    /// <summary><see cref="Type"/> as the array every event of this rule shares.</summary>
    internal string[] TypeValues => _typeValues ??= [.. Type];

    private string[]? _categoryValues;
    private string[]? _typeValues;

    /// <summary><c>event.action</c>. Default: the rule name.</summary>
    public string? Action { get; set; }

    /// <summary><c>event.outcome</c>: success, failure or unknown. Default unknown.</summary>
    public string Outcome { get; set; } = "unknown";

    /// <summary>CEF severity 0..10 (and <c>event.severity</c>). Default 3.</summary>
    public int Severity { get; set; } = 3;

    /// <summary>Human-readable title (CEF name). Default: the rule name.</summary>
    public string? Title { get; set; }

    /// <summary>When set, the sending device is also written as <c>observer.*</c> of this type (e.g. firewall). Default none.</summary>
    public string? ObserverType { get; set; }

    /// <summary><c>observer.vendor</c>, with <see cref="ObserverType"/>. Default none.</summary>
    public string? ObserverVendor { get; set; }

    /// <summary><c>observer.product</c>, with <see cref="ObserverType"/>. Default none.</summary>
    public string? ObserverProduct { get; set; }

    public void Validate(int index)
    {
        var at = $"Siem:Classification:{index}";
        if (string.IsNullOrWhiteSpace(Name) || Name.Any(c => c <= ' ' || c is '|' or '=' or '\\')) throw new ArgumentException($"{at}:Name is required and may not hold spaces, '|', '=' or '\\'");
        if (Process is null && Message is null && Original is null) throw new ArgumentException($"{at} ({Name}) needs at least one of Process, Message, Original");
        foreach (var (field, pattern) in new[] { ("Process", Process), ("Message", Message), ("Original", Original) })
        {
            if (pattern is null) continue;
            Regex regex;
            try
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"{at}:{field} ({Name}) is not a valid pattern: {ex.Message}");
            }
            foreach (var group in regex.GetGroupNames())
                if (!char.IsDigit(group[0]) && Normalising.EcsFields.FromGroupName(group) is null)
                    throw new ArgumentException($"{at}:{field} ({Name}): group '{group}' names no extractable ECS field (one of {string.Join(", ", Normalising.EcsFields.Extractable.Select(f => f.Replace('.', '_')))})");
        }
        if (Outcome is not ("success" or "failure" or "unknown")) throw new ArgumentException($"{at}:Outcome must be success, failure or unknown");
        if (Severity is < 0 or > 10) throw new ArgumentException($"{at}:Severity must be 0..10");
    }
}
