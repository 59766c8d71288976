using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Pipeline.Core.Envelope;
using Pipeline.Kafka.Consuming;

namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>
/// Turns a v1 envelope into an ECS document and classifies it. Times: <c>@timestamp</c> is when the event
/// happened at its origin (the syslog header's time; the edge's receive time when the line had none),
/// <c>event.created</c> the edge's receive time, <c>event.ingested</c> when this sink archived it.
/// The device that sent the line is <c>host.*</c> (and <c>observer.*</c> for firewalls); <c>source.*</c>
/// is only ever the network source of the activity the line reports (e.g. the SSH client), as ECS asks.
/// A record that is not an envelope is archived all the same, with its bytes in <c>event.original</c>.
/// </summary>
internal sealed class EcsNormaliser(Classifier classifier)
{
    private static readonly string[] SeverityNames = ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];
    private static readonly string[] FacilityNames =
    [
        "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv", "ftp", "ntp", "security",
        "console", "solaris-cron", "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
    ];

    /// <summary>
    /// Sender addresses as written (<see cref="IPAddress"/> parsed and printed once per address), as the one-element
    /// array <c>host.ip</c> and <c>observer.ip</c> hold (documents only read it); bounded.
    /// </summary>
    private readonly ConcurrentDictionary<string, string[]?> _senderIps = new(StringComparer.Ordinal);
    private const int SenderIpsKept = 4096;

    /// <summary>Normalises one record; <paramref name="envelope"/> is null when the record could not be decoded.</summary>
    public (EcsDocument Document, ClassificationRule? Rule) Normalise(ConsumedRecord record, TelemetryEvent? envelope, string? decodeError, DateTimeOffset ingested) =>
        Normalise(record, envelope, decodeError, ingested, new EcsDocument());

    /// <summary>Normalises one record into <paramref name="doc"/>, emptied first.</summary>
    public (EcsDocument Document, ClassificationRule? Rule) Normalise(ConsumedRecord record, TelemetryEvent? envelope, string? decodeError, DateTimeOffset ingested,
        EcsDocument doc)
    {
        doc.Clear();
        doc.Set(EcsKeys.EventKind, "event");
        doc.Set(EcsKeys.EventIngested, ingested);
        doc.Set(EcsKeys.PipelineTopic, record.Topic);
        doc.Set(EcsKeys.PipelinePartition, record.Partition);
        doc.Set(EcsKeys.PipelineOffset, record.Offset);
        if (envelope is null)
        {
            doc.Set(EcsKeys.EventId, $"{record.Topic}-{record.Partition}-{record.Offset}");
            doc.Set(EcsKeys.Timestamp, record.Timestamp);
            doc.Set(EcsKeys.EventCreated, record.Timestamp);
            doc.Set(EcsKeys.EventOriginal, Encoding.UTF8.GetString(record.Value));
            doc.Set(EcsKeys.ErrorMessage, decodeError);
            doc.Set(EcsKeys.Tags, UnreadableTags);
            return (doc, null);
        }

        var e = envelope;
        var syslog = e.Syslog;
        doc.Set(EcsKeys.EventId, e.Id);
        doc.Set(EcsKeys.Timestamp, syslog?.Timestamp ?? e.ReceivedAt);
        doc.Set(EcsKeys.EventCreated, e.ReceivedAt);
        doc.Set(EcsKeys.Message, e.Message);
        doc.Set(EcsKeys.EventOriginal, e.Raw);
        doc.Set(EcsKeys.OrganizationId, e.Tenant);
        if (e.Tags is { Count: > 0 } tags) doc.Set(EcsKeys.Labels, (IReadOnlyDictionary<string, string>)tags);

        var senderIp = SenderIp(e.Source.Ip);
        doc.Set(EcsKeys.HostIp, senderIp);
        doc.Set(EcsKeys.HostName, syslog?.Hostname);
        doc.Set(EcsKeys.ProcessName, syslog?.AppName);
        if (long.TryParse(syslog?.Procid, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) doc.Set(EcsKeys.ProcessPid, pid);
        if (syslog is not null) SetSyslog(doc, syslog);

        doc.Set(EcsKeys.PipelineKind, e.Kind);
        doc.Set(EcsKeys.PipelineTransport, e.Source.Transport);
        doc.Set(EcsKeys.PipelineEdge, e.Source.Edge);
        if (e.Source.Port is { } port) doc.Set(EcsKeys.PipelineSenderPort, port);
        if (e.SampleRate != 1) doc.Set(EcsKeys.PipelineSampleRate, e.SampleRate);
        doc.Set(EcsKeys.PipelineParseStatus, e.ParseStatus);
        doc.Set(EcsKeys.PipelineParseError, e.ParseError);
        doc.Set(EcsKeys.PipelineStreamId, e.Stream?.Id);
        if (e.Payload is { } payload) doc.Set(EcsKeys.PipelinePayload, payload);
        if (e.Metric is { } metric)
        {
            doc.Set(EcsKeys.MetricName, metric.Name);
            doc.Set(EcsKeys.MetricValue, metric.Value);
            doc.Set(EcsKeys.MetricType, metric.Type);
            if (metric.Labels is { Count: > 0 } labels) doc.Set(EcsKeys.MetricLabels, labels);
        }

        var classification = classifier.Classify(syslog?.AppName, e.Message, e.Raw ?? e.Message);
        if (classification is null) return (doc, null);
        Apply(doc, classification, senderIp, syslog?.Hostname);
        return (doc, classification.Rule);
    }

    private static readonly string[] UnreadableTags = ["pipeline_envelope_unreadable"];

    /// <summary>The sender's address as ECS writes it (parsed and printed, so every form of one address reads the same), or null.</summary>
    private string[]? SenderIp(string? text)
    {
        if (text is null) return null;
        if (_senderIps.TryGetValue(text, out var known)) return known;
        string[]? ip = IPAddress.TryParse(text, out var parsed) ? [parsed.ToString()] : null;
        if (_senderIps.Count < SenderIpsKept) _senderIps.TryAdd(text, ip);
        return ip;
    }

    /// <summary>
    /// An address as ECS writes it: a dotted quad already in its one written form (no leading zeros, each part at
    /// most 255) is that form, as <see cref="IPAddress"/> would print it; anything else is parsed and printed.
    /// </summary>
    internal static string? CanonicalIp(string text)
    {
        if (IsCanonicalIpv4(text)) return text;
        return IPAddress.TryParse(text, out var parsed) ? parsed.ToString() : null;
    }

    private static bool IsCanonicalIpv4(ReadOnlySpan<char> text)
    {
        var parts = 0;
        var at = 0;
        while (at <= text.Length)
        {
            var end = text[at..].IndexOf('.');
            var part = end < 0 ? text[at..] : text.Slice(at, end);
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0')) return false;
            var value = 0;
            foreach (var c in part)
            {
                if (c is < '0' or > '9') return false;
                value = value * 10 + (c - '0');
            }
            if (value > 255) return false;
            parts++;
            if (end < 0) break;
            at += end + 1;
        }
        return parts == 4;
    }

    private static void SetSyslog(EcsDocument doc, SyslogFields s)
    {
        if (s.Facility is { } facility)
        {
            doc.Set(EcsKeys.FacilityCode, facility);
            if (facility is >= 0 and < 24) doc.Set(EcsKeys.FacilityName, FacilityNames[facility]);
        }
        if (s.Severity is { } severity)
        {
            doc.Set(EcsKeys.SeverityCode, severity);
            if (severity is >= 0 and < 8)
            {
                doc.Set(EcsKeys.SeverityName, SeverityNames[severity]);
                doc.Set(EcsKeys.LogLevel, SeverityNames[severity]);
            }
        }
        if (s is { Facility: { } f, Severity: { } v }) doc.Set(EcsKeys.Priority, f * 8 + v);
        doc.Set(EcsKeys.SyslogHostname, s.Hostname);
        doc.Set(EcsKeys.SyslogAppName, s.AppName);
        doc.Set(EcsKeys.SyslogProcid, s.Procid);
        doc.Set(EcsKeys.SyslogMsgid, s.Msgid);
        if (s.StructuredData is { Count: > 0 } sd) doc.Set(EcsKeys.SyslogStructuredData, (IReadOnlyDictionary<string, Dictionary<string, string>>)sd);
        if (s.Rfc == "5424") doc.Set(EcsKeys.SyslogVersion, "1");
    }

    private static void Apply(EcsDocument doc, Classification classification, string[]? senderIp, string? senderName)
    {
        var rule = classification.Rule;
        doc.Set(EcsKeys.EventCategory, rule.CategoryValues);
        doc.Set(EcsKeys.EventType, rule.TypeValues);
        doc.Set(EcsKeys.EventAction, rule.Action ?? rule.Name);
        doc.Set(EcsKeys.EventOutcome, rule.Outcome);
        doc.Set(EcsKeys.EventCode, rule.Name);
        doc.Set(EcsKeys.EventSeverity, rule.Severity);
        doc.Set(EcsKeys.PipelineClassification, rule.Name);
        foreach (var (field, value) in classification.Extracted)
        {
            if (EcsFields.IsIp(field))
            {
                // sshd and friends log a name when reverse lookups are on: keep it, but not as an IP.
                var ipField = field == EcsFields.SourceIp;
                doc.Set(ipField ? EcsKeys.SourceAddress : EcsKeys.DestinationAddress, value);
                doc.Set(ipField ? EcsKeys.SourceIp : EcsKeys.DestinationIp, CanonicalIp(value));
            }
            else if (EcsFields.IsPort(field))
            {
                if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535) doc.Set(EcsKey.Of(field), port);
            }
            else if (field == EcsFields.NetworkTransport)
            {
                doc.Set(EcsKeys.NetworkTransport, value.ToLowerInvariant());
            }
            else
            {
                doc.Set(EcsKey.Of(field), value);
            }
        }
        if (rule.ObserverType is not null)
        {
            doc.Set(EcsKeys.ObserverType, rule.ObserverType);
            doc.Set(EcsKeys.ObserverVendor, rule.ObserverVendor);
            doc.Set(EcsKeys.ObserverProduct, rule.ObserverProduct);
            doc.Set(EcsKeys.ObserverHostname, senderName);
            doc.Set(EcsKeys.ObserverIp, senderIp);
        }
        doc.Set(EcsKeys.RelatedIp, Distinct(doc.GetString(EcsKeys.SourceIp), doc.GetString(EcsKeys.DestinationIp), null));
        doc.Set(EcsKeys.RelatedUser, Distinct(doc.GetString(EcsKeys.UserName), doc.GetString(EcsKeys.UserEffectiveName), doc.GetString(EcsKeys.UserTargetName)));
    }

    /// <summary>The values that are there, each once, in order.</summary>
    private static string[] Distinct(string? a, string? b, string? c)
    {
        Span<int> keep = stackalloc int[3];
        var n = 0;
        if (a is not null) keep[n++] = 0;
        if (b is not null && b != a) keep[n++] = 1;
        if (c is not null && c != a && c != b) keep[n++] = 2;
        if (n == 0) return [];
        var values = new string[n];
        for (var i = 0; i < n; i++) values[i] = keep[i] switch { 0 => a!, 1 => b!, _ => c! };
        return values;
    }
}
