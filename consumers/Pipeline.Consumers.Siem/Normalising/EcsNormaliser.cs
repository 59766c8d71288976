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

    /// <summary>Normalises one record; <paramref name="envelope"/> is null when the record could not be decoded.</summary>
    public (EcsDocument Document, ClassificationRule? Rule) Normalise(ConsumedRecord record, TelemetryEvent? envelope, string? decodeError, DateTimeOffset ingested)
    {
        var doc = new EcsDocument();
        doc.Set(EcsFields.EventKind, "event");
        doc.Set(EcsFields.EventIngested, ingested);
        doc.Set("pipeline.topic", record.Topic);
        doc.Set("pipeline.partition", (long)record.Partition);
        doc.Set("pipeline.offset", record.Offset);
        if (envelope is null)
        {
            doc.Set(EcsFields.EventId, $"{record.Topic}-{record.Partition}-{record.Offset}");
            doc.Set(EcsFields.Timestamp, record.Timestamp);
            doc.Set(EcsFields.EventCreated, record.Timestamp);
            doc.Set(EcsFields.EventOriginal, Encoding.UTF8.GetString(record.Value));
            doc.Set("error.message", decodeError);
            doc.Set("tags", new[] { "pipeline_envelope_unreadable" });
            return (doc, null);
        }

        var e = envelope;
        var syslog = e.Syslog;
        doc.Set(EcsFields.EventId, e.Id);
        doc.Set(EcsFields.Timestamp, syslog?.Timestamp ?? e.ReceivedAt);
        doc.Set(EcsFields.EventCreated, e.ReceivedAt);
        doc.Set(EcsFields.Message, e.Message);
        doc.Set(EcsFields.EventOriginal, e.Raw);
        doc.Set("organization.id", e.Tenant);
        if (e.Tags is { Count: > 0 } tags) doc.Set("labels", (IReadOnlyDictionary<string, string>)tags);

        var senderIp = IPAddress.TryParse(e.Source.Ip, out var ip) ? ip.ToString() : null;
        doc.Set(EcsFields.HostIp, senderIp is null ? null : new[] { senderIp });
        doc.Set(EcsFields.HostName, syslog?.Hostname);
        doc.Set(EcsFields.ProcessName, syslog?.AppName);
        if (long.TryParse(syslog?.Procid, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) doc.Set(EcsFields.ProcessPid, pid);
        if (syslog is not null) SetSyslog(doc, syslog);

        doc.Set("pipeline.kind", e.Kind);
        doc.Set("pipeline.transport", e.Source.Transport);
        doc.Set("pipeline.edge", e.Source.Edge);
        if (e.Source.Port is { } port) doc.Set("pipeline.sender_port", (long)port);
        if (e.SampleRate != 1) doc.Set("pipeline.sample_rate", (long)e.SampleRate);
        doc.Set("pipeline.parse_status", e.ParseStatus);
        doc.Set("pipeline.parse_error", e.ParseError);
        doc.Set("pipeline.stream_id", e.Stream?.Id);
        if (e.Payload is { } payload) doc.Set("pipeline.payload", payload);
        if (e.Metric is { } metric)
        {
            doc.Set("pipeline.metric.name", metric.Name);
            doc.Set("pipeline.metric.value", metric.Value);
            doc.Set("pipeline.metric.type", metric.Type);
            if (metric.Labels is { Count: > 0 } labels) doc.Set("pipeline.metric.labels", labels);
        }

        var classification = classifier.Classify(syslog?.AppName, e.Message, e.Raw ?? e.Message);
        if (classification is null) return (doc, null);
        Apply(doc, classification, senderIp, syslog?.Hostname);
        return (doc, classification.Rule);
    }

    private static void SetSyslog(EcsDocument doc, SyslogFields s)
    {
        if (s.Facility is { } facility)
        {
            doc.Set("log.syslog.facility.code", (long)facility);
            if (facility is >= 0 and < 24) doc.Set("log.syslog.facility.name", FacilityNames[facility]);
        }
        if (s.Severity is { } severity)
        {
            doc.Set("log.syslog.severity.code", (long)severity);
            if (severity is >= 0 and < 8)
            {
                doc.Set("log.syslog.severity.name", SeverityNames[severity]);
                doc.Set("log.level", SeverityNames[severity]);
            }
        }
        if (s is { Facility: { } f, Severity: { } v }) doc.Set("log.syslog.priority", (long)(f * 8 + v));
        doc.Set("log.syslog.hostname", s.Hostname);
        doc.Set("log.syslog.appname", s.AppName);
        doc.Set("log.syslog.procid", s.Procid);
        doc.Set("log.syslog.msgid", s.Msgid);
        if (s.StructuredData is { Count: > 0 } sd) doc.Set("log.syslog.structured_data", (IReadOnlyDictionary<string, Dictionary<string, string>>)sd);
        if (s.Rfc == "5424") doc.Set("log.syslog.version", "1");
    }

    private static void Apply(EcsDocument doc, Classification classification, string? senderIp, string? senderName)
    {
        var rule = classification.Rule;
        doc.Set(EcsFields.EventCategory, rule.Category.ToArray());
        doc.Set(EcsFields.EventType, rule.Type.ToArray());
        doc.Set(EcsFields.EventAction, rule.Action ?? rule.Name);
        doc.Set(EcsFields.EventOutcome, rule.Outcome);
        doc.Set(EcsFields.EventCode, rule.Name);
        doc.Set(EcsFields.EventSeverity, (long)rule.Severity);
        doc.Set("pipeline.classification", rule.Name);
        foreach (var (field, value) in classification.Extracted)
        {
            if (EcsFields.IsIp(field))
            {
                // sshd and friends log a name when reverse lookups are on: keep it, but not as an IP.
                var address = field == EcsFields.SourceIp ? EcsFields.SourceAddress : EcsFields.DestinationAddress;
                doc.Set(address, value);
                if (IPAddress.TryParse(value, out var parsed)) doc.Set(field, parsed.ToString());
            }
            else if (EcsFields.IsPort(field))
            {
                if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is >= 0 and <= 65535) doc.Set(field, port);
            }
            else if (field == EcsFields.NetworkTransport)
            {
                doc.Set(field, value.ToLowerInvariant());
            }
            else
            {
                doc.Set(field, value);
            }
        }
        if (rule.ObserverType is not null)
        {
            doc.Set("observer.type", rule.ObserverType);
            doc.Set("observer.vendor", rule.ObserverVendor);
            doc.Set("observer.product", rule.ObserverProduct);
            doc.Set("observer.hostname", senderName);
            doc.Set("observer.ip", senderIp is null ? null : new[] { senderIp });
        }
        var ips = new[] { doc.GetString(EcsFields.SourceIp), doc.GetString(EcsFields.DestinationIp) }.OfType<string>().Distinct().ToArray();
        doc.Set("related.ip", ips);
        var users = new[] { doc.GetString(EcsFields.UserName), doc.GetString(EcsFields.UserEffectiveName), doc.GetString(EcsFields.UserTargetName) }
            .OfType<string>().Distinct().ToArray();
        doc.Set("related.user", users);
    }
}
