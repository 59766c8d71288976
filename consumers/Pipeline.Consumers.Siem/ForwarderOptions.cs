using System.Text.RegularExpressions;

namespace Pipeline.Consumers.Siem;

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
