namespace Pipeline.Consumers.TopK.Extraction;

/// <summary>What a dimension's key is read from.</summary>
internal enum DimensionKind
{
    /// <summary><c>syslog.hostname</c>.</summary>
    Host,
    /// <summary><c>syslog.app_name</c>.</summary>
    App,
    /// <summary><c>syslog.severity</c> as its RFC 5424 keyword (<c>err</c>, <c>warning</c>, ...).</summary>
    Severity,
    /// <summary>The address a message speaks of (<c>from 1.2.3.4</c>, <c>SRC=</c>, <c>rhost=</c>, <c>client</c> ...), see <see cref="SourceIp"/>.</summary>
    SourceIp,
    /// <summary><c>source.ip</c>: the sender of the line or request as the edge saw it.</summary>
    SenderIp,
    /// <summary>The message with numbers, addresses and ids masked, see <see cref="MessageTemplate"/>.</summary>
    Template,
    /// <summary><c>tenant</c>.</summary>
    Tenant,
    /// <summary><c>kind</c> (log, metric, trace, event).</summary>
    Kind,
    /// <summary>A field of an HTTP event's <c>payload</c>, by dotted path.</summary>
    Payload,
    /// <summary><c>metric.name</c>: which metrics send the most samples.</summary>
    Metric,
    /// <summary>The series (labels) of one named counter, weighted by <c>metric.delta</c>: the busiest series by increase.</summary>
    MetricSeries,
}

/// <summary>
/// A dimension to keep heavy hitters of: a name as it appears in configuration, in the query
/// (<c>?dimension=host</c>) and in storage, and where its key comes from. <see cref="PayloadPath"/> is the
/// dotted path of a payload dimension, or the one metric name of a <c>metric.&lt;name&gt;</c> dimension.
/// </summary>
internal sealed record Dimension(string Name, DimensionKind Kind, string[] PayloadPath)
{
    public const string PayloadPrefix = "payload.";
    public const string MetricPrefix = "metric.";

    private static readonly Dictionary<string, DimensionKind> Known = new(StringComparer.Ordinal)
    {
        ["host"] = DimensionKind.Host,
        ["app"] = DimensionKind.App,
        ["severity"] = DimensionKind.Severity,
        ["source_ip"] = DimensionKind.SourceIp,
        ["sender_ip"] = DimensionKind.SenderIp,
        ["template"] = DimensionKind.Template,
        ["tenant"] = DimensionKind.Tenant,
        ["kind"] = DimensionKind.Kind,
        ["metric"] = DimensionKind.Metric,
    };

    /// <summary>Every name <see cref="Parse"/> accepts, for error messages and the README.</summary>
    public static string Names => string.Join(", ", Known.Keys) + ", payload.<field>[.<field>...], metric.<counter name>";

    /// <summary>Reads one configured name; throws naming what is wrong.</summary>
    public static Dimension Parse(string name)
    {
        if (Known.TryGetValue(name, out var kind)) return new Dimension(name, kind, []);
        if (name.StartsWith(PayloadPrefix, StringComparison.Ordinal))
        {
            var path = name[PayloadPrefix.Length..].Split('.');
            if (path.Length is > 0 and <= 8 && path.All(p => p.Length > 0))
                return new Dimension(name, DimensionKind.Payload, path);
        }
        if (name.StartsWith(MetricPrefix, StringComparison.Ordinal) && name.Length > MetricPrefix.Length)
            return new Dimension(name, DimensionKind.MetricSeries, [name[MetricPrefix.Length..]]);
        throw new ArgumentException($"unknown top-k dimension '{name}'; known: {Names}");
    }

    /// <summary>RFC 5424 severity keywords, by number.</summary>
    public static readonly string[] SeverityNames = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"];
}
