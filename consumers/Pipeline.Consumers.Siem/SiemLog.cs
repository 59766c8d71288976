using Microsoft.Extensions.Logging;

namespace Pipeline.Consumers.Siem;

/// <summary>The SIEM sink's log lines; its counters are in <see cref="SiemMetrics"/> beside them.</summary>
internal static partial class SiemLog
{
    [LoggerMessage(501, LogLevel.Information, "Archive {Directory} opened: segment {Segment}, {Seq} records, {Partitions} partitions with stored offsets")]
    public static partial void ArchiveOpened(ILogger logger, string directory, long segment, long seq, int partitions);

    [LoggerMessage(502, LogLevel.Warning, "Archive recovery: cut {Bytes} uncommitted bytes ({Lines} whole lines, torn last line: {Torn}) from {Segment} after {Committed} committed bytes; they are read from Kafka again")]
    public static partial void TailTruncated(ILogger logger, string segment, long committed, long bytes, long lines, bool torn);

    [LoggerMessage(503, LogLevel.Warning, "Archive recovery: removed {Segment}, created after the last checkpoint and never committed ({Bytes} bytes)")]
    public static partial void UncommittedSegmentRemoved(ILogger logger, string segment, long bytes);

    [LoggerMessage(504, LogLevel.Warning, "Archive {Directory} had no checkpoint: rebuilt from {Segments} segments ({Seq} records); detection state starts empty")]
    public static partial void CheckpointRebuilt(ILogger logger, string directory, int segments, long seq);

    [LoggerMessage(505, LogLevel.Information, "Sealed {Segment}: {Records} records, final hash {Hash}")]
    public static partial void Sealed(ILogger logger, string segment, long records, string hash);

    [LoggerMessage(506, LogLevel.Warning, "Alert {AlertId} from rule {Rule} for {Key}: {Count} events")]
    public static partial void AlertFired(ILogger logger, string alertId, string rule, string key, int count);

    [LoggerMessage(507, LogLevel.Warning, "No classification rules are configured: every event is archived unclassified")]
    public static partial void NoClassificationRules(ILogger logger);

    [LoggerMessage(510, LogLevel.Information, "Forwarder {Destination} starts at segment {Segment} position {Position} (seq {Seq})")]
    public static partial void ForwarderStarting(ILogger logger, string destination, long segment, long position, long seq);

    [LoggerMessage(511, LogLevel.Warning, "Forwarder {Destination} failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void ForwardFailed(ILogger logger, Exception exception, string destination, int attempt, TimeSpan delay);

    [LoggerMessage(512, LogLevel.Information, "Forwarder {Destination} delivering again after {Attempts} failed attempts")]
    public static partial void ForwardRecovered(ILogger logger, string destination, int attempts);

    [LoggerMessage(513, LogLevel.Warning, "Forwarder {Destination}: {Records} records of ack id {AckId} not acknowledged within {Timeout}; sending them again")]
    public static partial void AckTimedOut(ILogger logger, string destination, int records, long ackId, TimeSpan timeout);

    [LoggerMessage(514, LogLevel.Warning, "Forwarder {Destination}: connection to {Endpoint} closed by the peer; reconnecting")]
    public static partial void PeerClosed(ILogger logger, string destination, string endpoint);

    [LoggerMessage(515, LogLevel.Error, "Forwarder {Destination} stopped")]
    public static partial void ForwarderCrashed(ILogger logger, Exception exception, string destination);

    [LoggerMessage(520, LogLevel.Warning, "Segment roll check failed; retried at the next batch")]
    public static partial void RollFailed(ILogger logger, Exception exception);
}
