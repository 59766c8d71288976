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
