namespace Pipeline.Ops.Status;

/// <summary>
/// The whole pipeline at one moment, as the status page and <c>ops top</c> show it. Rates are per second
/// over the last sampling interval; a null number means "not known now" (its source is down or has not
/// been read twice yet), never zero.
/// </summary>
internal sealed record StatusSnapshot(
    DateTimeOffset At,
    double IntervalSeconds,
    KafkaStatus Kafka,
    IReadOnlyList<ProcessStatus> Processes,
    EdgeStatus? Edge,
    IReadOnlyList<TopicStatus> Topics,
    IReadOnlyList<GroupStatus> Groups,
    int TailsOpen)
{
    public static StatusSnapshot Nothing(DateTimeOffset at) =>
        new(at, 0, new KafkaStatus(false, "", "not read yet", null), [], null, [], [], 0);
}

/// <summary>Kafka as the status reader sees it: answering or not, and when it last answered.</summary>
internal sealed record KafkaStatus(bool Up, string Bootstrap, string? Error, DateTimeOffset? ReadAt);

/// <summary>One process: <see cref="Up"/> when its <c>/metrics</c> answered, <see cref="Healthy"/> when its <c>/healthz</c> said 200.</summary>
internal sealed record ProcessStatus(string Name, string Role, string Url, string? Group, bool Up, bool Healthy, string? Detail, DateTimeOffset? LastSeen)
{
    /// <summary><c>up</c>, <c>failing</c> (answering, but its health check fails) or <c>down</c> (not answering).</summary>
    public string State => !Up ? "down" : Healthy ? "up" : "failing";
}

/// <summary>The edge's intake: per listener, the loss ledger by reason, and what waits in memory and in the spool.</summary>
internal sealed record EdgeStatus(
    bool Up,
    IReadOnlyList<ListenerStatus> Listeners,
    double? ReceivedPerSecond,
    double? PublishedPerSecond,
    double? DroppedPerSecond,
    double ReceivedTotal,
    double PublishedTotal,
    double DroppedTotal,
    double ParseFailedTotal,
    IReadOnlyList<DropStatus> Drops,
    double PendingMemory,
    double PendingSpool,
    double? SpoolBytes,
    double? SpoolMaxBytes)
{
    /// <summary>How full the spool is, 0 to 1; null when the edge does not say.</summary>
    public double? SpoolFill => SpoolBytes is { } used && SpoolMaxBytes is > 0 and var max ? Math.Clamp(used / max, 0, 1) : null;
}

internal sealed record ListenerStatus(string Name, double ReceivedTotal, double? ReceivedPerSecond, double? PublishedPerSecond, double? DroppedPerSecond);

/// <summary>One reason the edge gave up on events (or the kernel did, for UDP), with its total and rate.</summary>
internal sealed record DropStatus(string Reason, double Total, double? PerSecond);

/// <summary>A topic: its partitions, the records it holds now, and how fast records are appended.</summary>
internal sealed record TopicStatus(string Name, int Partitions, long Records, long EndOffset, double? PerSecond);

/// <summary>
/// A consumer group: <see cref="State"/> is <c>up</c>, <c>failing</c> (its sink fails: partitions paused or
/// health 503) or <c>down</c> (no process of the group answers). Lag in messages comes from the group's
/// positions (the sink's own store for an exactly-once group, else Kafka's committed offsets) against the
/// end offsets; lag in time is the age of the oldest record not yet written.
/// </summary>
internal sealed record GroupStatus(
    string Group,
    string State,
    IReadOnlyList<string> Processes,
    long? LagMessages,
    double? LagSeconds,
    double? ClosingPerSecond,
    double? WrittenPerSecond,
    double? WrittenTotal,
    double? FreshnessP50Seconds,
    double? FreshnessP99Seconds,
    long? DeadLettered,
    string? PositionsFrom,
    string? Problem);
