using System.Diagnostics.Metrics;
using Pipeline.Core.Metrics;

namespace Pipeline.Consumers.Siem;

/// <summary>The SIEM sink's instruments (meter <c>Pipeline.Siem</c>), typed in one place so a log line and its counter cannot drift apart.</summary>
internal sealed class SiemMetrics
{
    public const string MeterName = "Pipeline.Siem";

    private readonly CounterFamily _classified;
    private readonly CounterFamily _alerts;
    private readonly CounterFamily _forwarded;
    private readonly CounterFamily _failures;
    private readonly CounterFamily _resent;
    private readonly GaugeFamily _lagRecords;
    private readonly GaugeFamily _lagSeconds;
    private readonly GaugeFamily _up;
    private readonly List<Action> _lagReaders = [];

    public SiemMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        var archived = new CounterFamily(meter, "siem_archive_records_total", "Records appended to the archive.");
        ArchivedEvents = archived.For(("type", "event"));
        ArchivedAlerts = archived.For(("type", "alert"));
        ArchiveBatches = new CounterFamily(meter, "siem_archive_batches_total", "Batches committed (one data fsync and one checkpoint each).").For();
        ArchiveBytes = new CounterFamily(meter, "siem_archive_bytes_total", "Bytes appended to the archive.", "By").For();
        SegmentsSealed = new CounterFamily(meter, "siem_archive_segments_sealed_total", "Segments sealed with a manifest.").For();
        RecoveredBytes = new CounterFamily(meter, "siem_archive_recovery_truncated_bytes_total", "Uncommitted bytes cut from the open segment at start-up.", "By").For();
        RecoveredLines = new CounterFamily(meter, "siem_archive_recovery_truncated_records_total", "Uncommitted whole records cut at start-up (read again from Kafka).").For();
        TornLines = new CounterFamily(meter, "siem_archive_recovery_torn_lines_total", "Torn (half-written) last lines cut at start-up.").For();
        Skipped = new CounterFamily(meter, "siem_archive_skipped_total", "Records offered again below the archive's offsets and not archived twice.").For();
        Seq = new GaugeFamily(meter, "siem_archive_seq", "Records in the archive (seq of the last committed record).").For();
        Unreadable = new CounterFamily(meter, "siem_events_unreadable_total", "Records that were not v1 envelopes (archived raw).").For();
        Unclassified = new CounterFamily(meter, "siem_events_unclassified_total", "Events no classification rule matched (archived all the same).").For();
        DetectionGroups = new GaugeFamily(meter, "siem_detection_groups", "Groups held in detection windows.").For();
        _classified = new CounterFamily(meter, "siem_events_classified_total", "Events by classification rule.");
        _alerts = new CounterFamily(meter, "siem_alerts_total", "Alerts fired by detection rule.");
        _forwarded = new CounterFamily(meter, "siem_forward_records_total", "Archived records a destination confirmed.");
        _failures = new CounterFamily(meter, "siem_forward_failures_total", "Failed send attempts (connection, HTTP error, timeout).");
        _resent = new CounterFamily(meter, "siem_forward_resent_records_total", "Records sent again because their delivery was not confirmed in time.");
        // Both lag gauges come from one refresh of every forwarder per collection, whichever is read first.
        var round = new SnapshotRound<object>(() =>
        {
            Action[] readers;
            lock (_lagReaders) readers = [.. _lagReaders];
            foreach (var read in readers) read();
            return readers;
        });
        _lagRecords = new GaugeFamily(meter, "siem_forward_lag_records", "Committed archive records the destination has not confirmed yet.", refresh: round.JoinRefresh());
        _lagSeconds = new GaugeFamily(meter, "siem_forward_lag_seconds", "Age of the oldest archived record the destination has not confirmed (0 when caught up).", "s", round.JoinRefresh());
        _up = new GaugeFamily(meter, "siem_forward_up", "1 while the last send to the destination succeeded.");
    }

    public CounterCell ArchivedEvents { get; }
    public CounterCell ArchivedAlerts { get; }
    public CounterCell ArchiveBatches { get; }
    public CounterCell ArchiveBytes { get; }
    public CounterCell SegmentsSealed { get; }
    public CounterCell RecoveredBytes { get; }
    public CounterCell RecoveredLines { get; }
    public CounterCell TornLines { get; }
    public CounterCell Skipped { get; }
    public GaugeCell Seq { get; }
    public CounterCell Unreadable { get; }
    public CounterCell Unclassified { get; }
    public GaugeCell DetectionGroups { get; }

    public CounterCell Classified(string rule) => _classified.For(("rule", rule));

    public CounterCell Alerts(string rule) => _alerts.For(("rule", rule));

    public CounterCell Delivered(string destination) => _forwarded.For(("destination", destination), ("outcome", "delivered"));

    public CounterCell Filtered(string destination) => _forwarded.For(("destination", destination), ("outcome", "not_included"));

    public CounterCell Failures(string destination) => _failures.For(("destination", destination));

    public CounterCell Resent(string destination) => _resent.For(("destination", destination));

    public GaugeCell LagRecords(string destination) => _lagRecords.For(("destination", destination));

    public GaugeCell LagSeconds(string destination) => _lagSeconds.For(("destination", destination));

    public GaugeCell Up(string destination) => _up.For(("destination", destination));

    /// <summary>A forwarder's lag is copied into its gauges by <paramref name="refresh"/> when metrics are collected.</summary>
    public void BeforeCollect(Action refresh)
    {
        lock (_lagReaders) _lagReaders.Add(refresh);
    }
}
