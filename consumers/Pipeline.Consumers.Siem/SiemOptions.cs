using System.Text.RegularExpressions;

namespace Pipeline.Consumers.Siem;

/// <summary>The security sink's settings (section <c>Siem</c>). Every option states its default.</summary>
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

/// <summary>The tamper-evident archive (section <c>Siem:Archive</c>).</summary>
public sealed class ArchiveOptions
{
    /// <summary>Folder of segments, manifests, the checkpoint and the forwarding cursors. Default <c>.pipeline/siem-archive</c> (relative to the working directory). One process per folder.</summary>
    public string Directory { get; set; } = ".pipeline/siem-archive";

    /// <summary>A segment is sealed and a new one opened once it holds this many bytes (checked between batches). Default 64 MiB.</summary>
    public long SegmentMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>…or once it has been open this long (checked between batches and every few seconds). Default 1 hour.</summary>
    public TimeSpan SegmentMaxAge { get; set; } = TimeSpan.FromHours(1);

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Directory)) throw new ArgumentException("Siem:Archive:Directory is required");
        if (SegmentMaxBytes < 4096) throw new ArgumentException("Siem:Archive:SegmentMaxBytes must be at least 4096");
        if (SegmentMaxAge < TimeSpan.FromSeconds(1)) throw new ArgumentException("Siem:Archive:SegmentMaxAge must be at least 1 s");
    }
}

/// <summary>Alerts from detection rules (section <c>Siem:Alerts</c>): always archived; published to Kafka from the archive.</summary>
public sealed class AlertOptions
{
    /// <summary>Name of the Kafka publisher's forwarding cursor; no forwarder may take it.</summary>
    public const string CursorName = "kafka-alerts";

    /// <summary>Publish archived alerts to Kafka. Default true.</summary>
    public bool Publish { get; set; } = true;

    /// <summary>Topic alerts are published to (as v1 envelopes, kind <c>event</c>). Default <c>alerts</c>.</summary>
    public string Topic { get; set; } = "alerts";

    public void Validate()
    {
        if (Publish && string.IsNullOrWhiteSpace(Topic)) throw new ArgumentException("Siem:Alerts:Topic is required when publishing alerts");
    }
}

/// <summary>One external SIEM destination (an item of <c>Siem:Forwarders</c>).</summary>
public sealed partial class ForwarderOptions
{
    public const string CefSyslog = "cef-syslog";
    public const string Hec = "hec";

    /// <summary>Names the forwarding cursor file and the metrics label. Default <c>&lt;type&gt;-&lt;index&gt;</c>.</summary>
    public string? Name { get; set; }

    /// <summary><c>cef-syslog</c> (CEF in RFC 5424 over TCP, octet-counted) or <c>hec</c> (Splunk HTTP Event Collector). Required.</summary>
    public string Type { get; set; } = "";

    /// <summary><c>host:port</c> for cef-syslog, a base URL (<c>https://splunk:8088</c>) for hec. Required.</summary>
    public string Endpoint { get; set; } = "";

    /// <summary>Which archived records to send: <c>all</c>, <c>events</c>, <c>alerts</c> or <c>classified</c> (classified events and alerts). Default all.</summary>
    public string Include { get; set; } = "all";

    public TlsOptions Tls { get; set; } = new();

    /// <summary>HEC token. Default none; set it through the environment (<c>Siem__Forwarders__N__Token</c>) or <see cref="TokenFile"/>, never in this file.</summary>
    public string? Token { get; set; }

    /// <summary>File holding the HEC token (first line). Default none.</summary>
    public string? TokenFile { get; set; }

    /// <summary>HEC channel id (a GUID). Default: a new one per process start.</summary>
    public string? Channel { get; set; }

    /// <summary>HEC index. Default none (the token's default index).</summary>
    public string? Index { get; set; }

    /// <summary>HEC sourcetype. Default <c>pipeline:ecs</c>.</summary>
    public string SourceType { get; set; } = "pipeline:ecs";

    /// <summary>Records per send (one HEC request, or one write to the syslog connection). Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>HEC: requests awaiting acknowledgement at once. Default 4.</summary>
    public int MaxInFlight { get; set; } = 4;

    /// <summary>HEC: a request not acknowledged this long after it was sent is sent again. Default 60 s.</summary>
    public TimeSpan AckTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>HEC: how often <c>/services/collector/ack</c> is asked. Default 1 s.</summary>
    public TimeSpan AckPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>First wait after a failed send; doubles each time. Default 0.5 s.</summary>
    public TimeSpan RetryInitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between attempts. Default 30 s.</summary>
    public TimeSpan RetryMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Connect, write and request timeout. Default 10 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>cef-syslog: facility of the RFC 5424 messages. Default 10 (authpriv).</summary>
    public int Facility { get; set; } = 10;

    /// <summary>cef-syslog: APP-NAME of the RFC 5424 messages. Default <c>telemetry-pipeline</c>.</summary>
    public string AppName { get; set; } = "telemetry-pipeline";

    /// <summary>cef-syslog: the CEF <c>msg</c> extension is cut to this many characters (the rest is in the archive). Default 4000.</summary>
    public int MaxMessageChars { get; set; } = 4000;

    public string EffectiveName(int index) => string.IsNullOrWhiteSpace(Name) ? $"{Type}-{index}" : Name;

    public void Validate(int index)
    {
        var at = $"Siem:Forwarders:{index}";
        if (Type is not (CefSyslog or Hec)) throw new ArgumentException($"{at}:Type must be '{CefSyslog}' or '{Hec}', not '{Type}'");
        if (!NamePattern().IsMatch(EffectiveName(index))) throw new ArgumentException($"{at}:Name may hold only letters, digits, '-' and '_'");
        if (Include is not ("all" or "events" or "alerts" or "classified")) throw new ArgumentException($"{at}:Include must be all, events, alerts or classified");
        if (Type == CefSyslog)
        {
            if (!TryParseHostPort(Endpoint, out _, out _)) throw new ArgumentException($"{at}:Endpoint must be host:port for cef-syslog, not '{Endpoint}'");
            if (Facility is < 0 or > 23) throw new ArgumentException($"{at}:Facility must be 0..23");
            if (string.IsNullOrWhiteSpace(AppName) || AppName.Length > 48 || AppName.Any(c => c <= ' ' || c > '~')) throw new ArgumentException($"{at}:AppName must be 1..48 printable ASCII characters");
            if (MaxMessageChars < 64) throw new ArgumentException($"{at}:MaxMessageChars must be at least 64");
        }
        else
        {
            if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"{at}:Endpoint must be an http(s) URL for hec, not '{Endpoint}'");
            if (string.IsNullOrEmpty(ResolveToken())) throw new ArgumentException($"{at}: a HEC token is required (Siem__Forwarders__{index}__Token or TokenFile)");
            if (Channel is not null && !Guid.TryParse(Channel, out _)) throw new ArgumentException($"{at}:Channel must be a GUID");
            if (MaxInFlight is < 1 or > 64) throw new ArgumentException($"{at}:MaxInFlight must be 1..64");
            if (AckPollInterval <= TimeSpan.Zero || AckTimeout <= AckPollInterval) throw new ArgumentException($"{at}: AckPollInterval must be positive and below AckTimeout");
        }
        if (BatchSize is < 1 or > 100_000) throw new ArgumentException($"{at}:BatchSize must be 1..100000");
        if (RetryInitialBackoff <= TimeSpan.Zero || RetryMaxBackoff < RetryInitialBackoff) throw new ArgumentException($"{at}: RetryInitialBackoff must be positive and at most RetryMaxBackoff");
        if (Timeout <= TimeSpan.Zero) throw new ArgumentException($"{at}:Timeout must be positive");
        if (Tls.CaFile is not null && !File.Exists(Tls.CaFile)) throw new ArgumentException($"{at}:Tls:CaFile '{Tls.CaFile}' does not exist");
    }

    /// <summary>The token from <see cref="Token"/> or the first line of <see cref="TokenFile"/>.</summary>
    public string? ResolveToken()
    {
        if (!string.IsNullOrEmpty(Token)) return Token;
        if (TokenFile is null) return null;
        if (!File.Exists(TokenFile)) throw new ArgumentException($"HEC TokenFile '{TokenFile}' does not exist");
        return File.ReadLines(TokenFile).FirstOrDefault()?.Trim();
    }

    public static bool TryParseHostPort(string endpoint, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = endpoint.LastIndexOf(':');
        if (colon <= 0) return false;
        host = endpoint[..colon].Trim('[', ']');
        return int.TryParse(endpoint.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port)
            && port is > 0 and < 65536 && host.Length > 0;
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>TLS for a forwarder.</summary>
public sealed class TlsOptions
{
    /// <summary>cef-syslog: wrap the connection in TLS. Default false (hec follows the URL scheme).</summary>
    public bool Enabled { get; set; }

    /// <summary>PEM file of the CA that signs the SIEM's certificate, when it is not in the system store. Default none.</summary>
    public string? CaFile { get; set; }

    /// <summary>Name expected in the SIEM's certificate. Default: the endpoint's host.</summary>
    public string? ServerName { get; set; }

    /// <summary>Accept any certificate (testing only). Default false.</summary>
    public bool AllowUntrusted { get; set; }
}

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
