namespace Pipeline.Consumers.Siem.Normalising;

/// <summary>ECS field names the sink writes, and those a classification pattern may fill.</summary>
internal static class EcsFields
{
    public const string Timestamp = "@timestamp";
    public const string EventId = "event.id";
    public const string EventKind = "event.kind";
    public const string EventCategory = "event.category";
    public const string EventType = "event.type";
    public const string EventAction = "event.action";
    public const string EventOutcome = "event.outcome";
    public const string EventCode = "event.code";
    public const string EventSeverity = "event.severity";
    public const string EventCreated = "event.created";
    public const string EventIngested = "event.ingested";
    public const string EventOriginal = "event.original";
    public const string Message = "message";
    public const string HostName = "host.name";
    public const string HostIp = "host.ip";
    public const string ProcessName = "process.name";
    public const string ProcessPid = "process.pid";
    public const string SourceIp = "source.ip";
    public const string SourcePort = "source.port";
    public const string SourceAddress = "source.address";
    public const string DestinationIp = "destination.ip";
    public const string DestinationPort = "destination.port";
    public const string DestinationAddress = "destination.address";
    public const string UserName = "user.name";
    public const string UserTargetName = "user.target.name";
    public const string UserEffectiveName = "user.effective.name";
    public const string NetworkTransport = "network.transport";

    /// <summary>
    /// Fields a pattern's named group may fill; the group is the field with dots as underscores
    /// (<c>source_ip</c>, <c>user_effective_name</c>, <c>process_command_line</c>).
    /// </summary>
    public static readonly IReadOnlyList<string> Extractable =
    [
        SourceIp, SourcePort, "source.mac", DestinationIp, DestinationPort, "destination.mac",
        UserName, "user.id", UserEffectiveName, UserTargetName, "user.target.id", "group.name",
        NetworkTransport, "network.direction", "process.command_line", "process.working_directory",
        "observer.ingress.interface.name", "observer.egress.interface.name", "rule.name", EventCode,
    ];

    private static readonly Dictionary<string, string> ByGroup =
        Extractable.ToDictionary(f => f.Replace('.', '_'), f => f, StringComparer.Ordinal);

    /// <summary>The field a named group fills, or null.</summary>
    public static string? FromGroupName(string group) => ByGroup.GetValueOrDefault(group);

    /// <summary>Fields holding an IP address: a value that is not one goes to the matching <c>.address</c> instead.</summary>
    public static bool IsIp(string field) => field is SourceIp or DestinationIp;

    public static bool IsPort(string field) => field is SourcePort or DestinationPort;
}

/// <summary>The keys the normaliser writes, interned once (<see cref="EcsKey"/>).</summary>
internal static class EcsKeys
{
    public static readonly EcsKey Timestamp = EcsKey.Of(EcsFields.Timestamp);
    public static readonly EcsKey EventId = EcsKey.Of(EcsFields.EventId);
    public static readonly EcsKey EventKind = EcsKey.Of(EcsFields.EventKind);
    public static readonly EcsKey EventCategory = EcsKey.Of(EcsFields.EventCategory);
    public static readonly EcsKey EventType = EcsKey.Of(EcsFields.EventType);
    public static readonly EcsKey EventAction = EcsKey.Of(EcsFields.EventAction);
    public static readonly EcsKey EventOutcome = EcsKey.Of(EcsFields.EventOutcome);
    public static readonly EcsKey EventCode = EcsKey.Of(EcsFields.EventCode);
    public static readonly EcsKey EventSeverity = EcsKey.Of(EcsFields.EventSeverity);
    public static readonly EcsKey EventCreated = EcsKey.Of(EcsFields.EventCreated);
    public static readonly EcsKey EventIngested = EcsKey.Of(EcsFields.EventIngested);
    public static readonly EcsKey EventOriginal = EcsKey.Of(EcsFields.EventOriginal);
    public static readonly EcsKey Message = EcsKey.Of(EcsFields.Message);
    public static readonly EcsKey HostName = EcsKey.Of(EcsFields.HostName);
    public static readonly EcsKey HostIp = EcsKey.Of(EcsFields.HostIp);
    public static readonly EcsKey ProcessName = EcsKey.Of(EcsFields.ProcessName);
    public static readonly EcsKey ProcessPid = EcsKey.Of(EcsFields.ProcessPid);
    public static readonly EcsKey SourceIp = EcsKey.Of(EcsFields.SourceIp);
    public static readonly EcsKey SourceAddress = EcsKey.Of(EcsFields.SourceAddress);
    public static readonly EcsKey DestinationIp = EcsKey.Of(EcsFields.DestinationIp);
    public static readonly EcsKey DestinationAddress = EcsKey.Of(EcsFields.DestinationAddress);
    public static readonly EcsKey UserName = EcsKey.Of(EcsFields.UserName);
    public static readonly EcsKey UserTargetName = EcsKey.Of(EcsFields.UserTargetName);
    public static readonly EcsKey UserEffectiveName = EcsKey.Of(EcsFields.UserEffectiveName);
    public static readonly EcsKey NetworkTransport = EcsKey.Of(EcsFields.NetworkTransport);
    public static readonly EcsKey ErrorMessage = EcsKey.Of("error.message");
    public static readonly EcsKey Tags = EcsKey.Of("tags");
    public static readonly EcsKey OrganizationId = EcsKey.Of("organization.id");
    public static readonly EcsKey Labels = EcsKey.Of("labels");
    public static readonly EcsKey LogLevel = EcsKey.Of("log.level");
    public static readonly EcsKey FacilityCode = EcsKey.Of("log.syslog.facility.code");
    public static readonly EcsKey FacilityName = EcsKey.Of("log.syslog.facility.name");
    public static readonly EcsKey SeverityCode = EcsKey.Of("log.syslog.severity.code");
    public static readonly EcsKey SeverityName = EcsKey.Of("log.syslog.severity.name");
    public static readonly EcsKey Priority = EcsKey.Of("log.syslog.priority");
    public static readonly EcsKey SyslogHostname = EcsKey.Of("log.syslog.hostname");
    public static readonly EcsKey SyslogAppName = EcsKey.Of("log.syslog.appname");
    public static readonly EcsKey SyslogProcid = EcsKey.Of("log.syslog.procid");
    public static readonly EcsKey SyslogMsgid = EcsKey.Of("log.syslog.msgid");
    public static readonly EcsKey SyslogStructuredData = EcsKey.Of("log.syslog.structured_data");
    public static readonly EcsKey SyslogVersion = EcsKey.Of("log.syslog.version");
    public static readonly EcsKey PipelineTopic = EcsKey.Of("pipeline.topic");
    public static readonly EcsKey PipelinePartition = EcsKey.Of("pipeline.partition");
    public static readonly EcsKey PipelineOffset = EcsKey.Of("pipeline.offset");
    public static readonly EcsKey PipelineKind = EcsKey.Of("pipeline.kind");
    public static readonly EcsKey PipelineTransport = EcsKey.Of("pipeline.transport");
    public static readonly EcsKey PipelineEdge = EcsKey.Of("pipeline.edge");
    public static readonly EcsKey PipelineSenderPort = EcsKey.Of("pipeline.sender_port");
    public static readonly EcsKey PipelineSampleRate = EcsKey.Of("pipeline.sample_rate");
    public static readonly EcsKey PipelineParseStatus = EcsKey.Of("pipeline.parse_status");
    public static readonly EcsKey PipelineParseError = EcsKey.Of("pipeline.parse_error");
    public static readonly EcsKey PipelineStreamId = EcsKey.Of("pipeline.stream_id");
    public static readonly EcsKey PipelinePayload = EcsKey.Of("pipeline.payload");
    public static readonly EcsKey PipelineClassification = EcsKey.Of("pipeline.classification");
    public static readonly EcsKey MetricName = EcsKey.Of("pipeline.metric.name");
    public static readonly EcsKey MetricValue = EcsKey.Of("pipeline.metric.value");
    public static readonly EcsKey MetricType = EcsKey.Of("pipeline.metric.type");
    public static readonly EcsKey MetricLabels = EcsKey.Of("pipeline.metric.labels");
    public static readonly EcsKey ObserverType = EcsKey.Of("observer.type");
    public static readonly EcsKey ObserverVendor = EcsKey.Of("observer.vendor");
    public static readonly EcsKey ObserverProduct = EcsKey.Of("observer.product");
    public static readonly EcsKey ObserverHostname = EcsKey.Of("observer.hostname");
    public static readonly EcsKey ObserverIp = EcsKey.Of("observer.ip");
    public static readonly EcsKey RelatedIp = EcsKey.Of("related.ip");
    public static readonly EcsKey RelatedUser = EcsKey.Of("related.user");
}
