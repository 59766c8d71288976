using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Pipeline.Edge.Markup;

namespace Pipeline.Edge.Sources.Scrape;

/// <summary>
/// One endpoint to scrape, resolved from configuration or a target file: where, how often, within what
/// limits, and the labels its samples carry (always <c>job</c> and <c>instance</c>, as in Prometheus). Its
/// markup is encoded once here, not per sample.
/// </summary>
internal sealed class ScrapeTarget
{
    public ScrapeTarget(Uri url, IReadOnlyDictionary<string, string> labels, TimeSpan interval, TimeSpan timeout, long maxBodyBytes,
        int sampleLimit, string? bearerTokenFile, string source, ListenerMarkup markup)
    {
        Url = url;
        Interval = interval;
        Timeout = timeout;
        MaxBodyBytes = maxBodyBytes;
        SampleLimit = sampleLimit;
        BearerTokenFile = bearerTokenFile;
        Source = source;
        Labels = [.. labels.OrderBy(l => l.Key, StringComparer.Ordinal)];
        Job = labels[TargetLabels.Job];
        Instance = labels[TargetLabels.Instance];
        LabelsJson = [.. Labels.Select(l => (JsonEncodedText.Encode(l.Key), JsonEncodedText.Encode(l.Value)))];
        LabelNames = [.. Labels.Select(l => Encoding.UTF8.GetBytes(l.Key))];
        KeyPrefix = Encoding.UTF8.GetBytes(Instance + " ");
        JobBytes = Encoding.UTF8.GetBytes(Job);
        Origin = new IngestOrigin(markup, IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) ? new IPEndPoint(ip, url.Port) : null, null);
        Key = string.Join('\n', [url.AbsoluteUri, .. Labels.Select(l => $"{l.Key}={l.Value}"),
            interval.Ticks.ToString(CultureInfo.InvariantCulture), timeout.Ticks.ToString(CultureInfo.InvariantCulture),
            maxBodyBytes.ToString(CultureInfo.InvariantCulture), sampleLimit.ToString(CultureInfo.InvariantCulture), markup.Tenant ?? "", bearerTokenFile ?? ""]);
    }

    /// <summary>Everything that defines the target: two targets with the same key are the same target.</summary>
    public string Key { get; }
    public Uri Url { get; }
    public string Job { get; }
    public string Instance { get; }
    public TimeSpan Interval { get; }
    public TimeSpan Timeout { get; }
    public long MaxBodyBytes { get; }
    public int SampleLimit { get; }
    public string? BearerTokenFile { get; }
    /// <summary><c>static</c> (configuration) or <c>file</c>.</summary>
    public string Source { get; }
    /// <summary>The labels every sample of the target gets, by name.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Labels { get; }
    public (JsonEncodedText Name, JsonEncodedText Value)[] LabelsJson { get; }
    /// <summary>The names of <see cref="Labels"/> as UTF-8, to find a sample's label that collides with one.</summary>
    public byte[][] LabelNames { get; }
    /// <summary>The start of each sample's Kafka key (the instance): a series stays on one partition, in order.</summary>
    public byte[] KeyPrefix { get; }
    /// <summary>The job, for routes' <c>Match:App</c>.</summary>
    public byte[] JobBytes { get; }
    /// <summary>Listener, tenant and (when the host is an address) the peer of the target's events.</summary>
    public IngestOrigin Origin { get; }

    public override string ToString() => $"{Job}/{Instance}";
}

/// <summary>Turns configuration and target-file entries into <see cref="ScrapeTarget"/>s.</summary>
internal sealed class ScrapeTargetFactory(ScrapeOptions options, string edgeName, IReadOnlyDictionary<string, string> tags)
{
    public ScrapeTarget FromOptions(ScrapeTargetOptions target)
    {
        var url = new Uri(target.Url, UriKind.Absolute);
        var labels = new Dictionary<string, string>(options.Labels, StringComparer.Ordinal);
        foreach (var (name, value) in target.Labels) labels[name] = value;
        labels.TryAdd(TargetLabels.Job, target.Job);
        labels.TryAdd(TargetLabels.Instance, url.Host + ":" + url.Port.ToString(CultureInfo.InvariantCulture));
        return Create(url, labels, target, target.Interval, target.Timeout, "static");
    }

    /// <summary>
    /// One address of a target group in a file, with the group's labels. As in Prometheus, <c>__scheme__</c>,
    /// <c>__metrics_path__</c>, <c>__param_&lt;name&gt;</c>, <c>__scrape_interval__</c> and <c>__scrape_timeout__</c>
    /// shape the request and are not carried; any other label is. An address may also be a whole URL.
    /// </summary>
    public ScrapeTarget FromGroup(ScrapeFileOptions file, string address, IReadOnlyDictionary<string, string> groupLabels)
    {
        var labels = new Dictionary<string, string>(options.Labels, StringComparer.Ordinal);
        foreach (var (name, value) in file.Labels) labels[name] = value;
        string scheme = "http", path = "/metrics";
        var query = new StringBuilder();
        TimeSpan? interval = file.Interval, timeout = file.Timeout;
        foreach (var (name, value) in groupLabels)
        {
            if (!name.StartsWith("__", StringComparison.Ordinal))
            {
                if (!TargetLabels.IsValidName(name)) throw new FormatException($"'{name}' is not a label name");
                labels[name] = value;
            }
            else if (name == "__scheme__") scheme = value;
            else if (name == "__metrics_path__") path = value.StartsWith('/') ? value : "/" + value;
            else if (name == "__scrape_interval__") interval = TargetLabels.Duration(value, name);
            else if (name == "__scrape_timeout__") timeout = TargetLabels.Duration(value, name);
            else if (name.StartsWith("__param_", StringComparison.Ordinal))
                query.Append(query.Length == 0 ? '?' : '&').Append(Uri.EscapeDataString(name["__param_".Length..])).Append('=').Append(Uri.EscapeDataString(value));
        }
        if (scheme is not ("http" or "https")) throw new FormatException($"__scheme__ '{scheme}' is not http or https");
        var isUrl = address.Contains("://", StringComparison.Ordinal);
        if (!Uri.TryCreate(isUrl ? address : $"{scheme}://{address}{path}{query}", UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new FormatException($"target '{address}' is neither host:port nor an http(s) URL");
        labels.TryAdd(TargetLabels.Job, file.Job);
        labels.TryAdd(TargetLabels.Instance, isUrl ? url.Host + ":" + url.Port.ToString(CultureInfo.InvariantCulture) : address);
        ScrapeOptions.CheckDurations($"target '{address}'", interval ?? options.Interval, timeout ?? options.TimeoutWithin(interval ?? options.Interval));
        return Create(url, labels, file, interval, timeout, "file");
    }

    private ScrapeTarget Create(Uri url, Dictionary<string, string> labels, ScrapeSettings settings, TimeSpan? interval, TimeSpan? timeout, string source) =>
        new(url, labels, interval ?? options.Interval, timeout ?? options.TimeoutWithin(interval ?? options.Interval), settings.MaxBodyBytes ?? options.MaxBodyBytes,
            settings.SampleLimit ?? options.SampleLimit, settings.BearerTokenFile, source,
            new ListenerMarkup(options.Name, Transport, edgeName, tags, settings.Tenant ?? options.Tenant, options.Buffer));

    /// <summary>The envelope's <c>source.transport</c> of scraped samples.</summary>
    public const string Transport = "scrape";
}

/// <summary>Label names and the duration syntax targets use.</summary>
internal static class TargetLabels
{
    public const string Job = "job";
    public const string Instance = "instance";

    /// <summary>A label a target may carry: <c>[a-zA-Z_][a-zA-Z0-9_]*</c>, not starting with <c>__</c> (reserved).</summary>
    public static bool IsValidName(string name) =>
        name.Length > 0 && (char.IsAsciiLetter(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_')
        && !name.StartsWith("__", StringComparison.Ordinal);

    /// <summary>A Prometheus duration: <c>1h30m</c>, <c>15s</c>, <c>500ms</c> (units ms, s, m, h, d, w, y).</summary>
    public static TimeSpan Duration(string text, string what)
    {
        var total = TimeSpan.Zero;
        var rest = text.AsSpan();
        if (rest.IsEmpty) throw new FormatException($"{what}: empty duration");
        while (!rest.IsEmpty)
        {
            var digits = 0;
            while (digits < rest.Length && char.IsAsciiDigit(rest[digits])) digits++;
            var unit = digits;
            while (unit < rest.Length && char.IsAsciiLetter(rest[unit])) unit++;
            if (digits == 0 || unit == digits || !long.TryParse(rest[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
                throw new FormatException($"{what}: '{text}' is not a duration such as 15s or 1m30s");
            total += rest[digits..unit] switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                "d" => TimeSpan.FromDays(n),
                "w" => TimeSpan.FromDays(7 * n),
                "y" => TimeSpan.FromDays(365 * n),
                _ => throw new FormatException($"{what}: '{text}' has an unknown unit"),
            };
            rest = rest[unit..];
        }
        return total;
    }
}
