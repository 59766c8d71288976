using Microsoft.Extensions.Logging;
using Pipeline.Core.Metrics;

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

/// <summary>The SIEM sink's metrics, typed in one place so a log line and its counter cannot drift apart.</summary>
internal sealed class SiemMetrics(MetricsRegistry registry)
{
    public Counter ArchivedEvents { get; } = registry.Counter("siem_archive_records_total", "Records appended to the archive.", ("type", "event"));
    public Counter ArchivedAlerts { get; } = registry.Counter("siem_archive_records_total", "Records appended to the archive.", ("type", "alert"));
    public Counter ArchiveBatches { get; } = registry.Counter("siem_archive_batches_total", "Batches committed (one data fsync and one checkpoint each).");
    public Counter ArchiveBytes { get; } = registry.Counter("siem_archive_bytes_total", "Bytes appended to the archive.");
    public Counter SegmentsSealed { get; } = registry.Counter("siem_archive_segments_sealed_total", "Segments sealed with a manifest.");
    public Counter RecoveredBytes { get; } = registry.Counter("siem_archive_recovery_truncated_bytes_total", "Uncommitted bytes cut from the open segment at start-up.");
    public Counter RecoveredLines { get; } = registry.Counter("siem_archive_recovery_truncated_records_total", "Uncommitted whole records cut at start-up (read again from Kafka).");
    public Counter TornLines { get; } = registry.Counter("siem_archive_recovery_torn_lines_total", "Torn (half-written) last lines cut at start-up.");
    public Counter Skipped { get; } = registry.Counter("siem_archive_skipped_total", "Records offered again below the archive's offsets and not archived twice.");
    public Gauge Seq { get; } = registry.Gauge("siem_archive_seq", "Records in the archive (seq of the last committed record).");
    public Counter Unreadable { get; } = registry.Counter("siem_events_unreadable_total", "Records that were not v1 envelopes (archived raw).");
    public Counter Unclassified { get; } = registry.Counter("siem_events_unclassified_total", "Events no classification rule matched (archived all the same).");
    public Gauge DetectionGroups { get; } = registry.Gauge("siem_detection_groups", "Groups held in detection windows.");

    public Counter Classified(string rule) => registry.Counter("siem_events_classified_total", "Events by classification rule.", ("rule", rule));

    public Counter Alerts(string rule) => registry.Counter("siem_alerts_total", "Alerts fired by detection rule.", ("rule", rule));

    public Counter Delivered(string destination) =>
        registry.Counter("siem_forward_records_total", "Archived records a destination confirmed.", ("destination", destination), ("outcome", "delivered"));

    public Counter Filtered(string destination) =>
        registry.Counter("siem_forward_records_total", "Archived records a destination confirmed.", ("destination", destination), ("outcome", "not_included"));

    public Counter Failures(string destination) =>
        registry.Counter("siem_forward_failures_total", "Failed send attempts (connection, HTTP error, timeout).", ("destination", destination));

    public Counter Resent(string destination) =>
        registry.Counter("siem_forward_resent_records_total", "Records sent again because their delivery was not confirmed in time.", ("destination", destination));

    public Gauge LagRecords(string destination) =>
        registry.Gauge("siem_forward_lag_records", "Committed archive records the destination has not confirmed yet.", ("destination", destination));

    public Gauge LagSeconds(string destination) =>
        registry.Gauge("siem_forward_lag_seconds", "Age of the oldest archived record the destination has not confirmed (0 when caught up).", ("destination", destination));

    public Gauge Up(string destination) =>
        registry.Gauge("siem_forward_up", "1 while the last send to the destination succeeded.", ("destination", destination));
}
