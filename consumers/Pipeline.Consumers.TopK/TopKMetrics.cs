using System.Diagnostics.Metrics;
using Pipeline.Consumers.TopK.Windows;
using Pipeline.Core.Metrics;

namespace Pipeline.Consumers.TopK;

/// <summary>The aggregator's instruments (meter <c>Pipeline.TopK</c>), typed in one place.</summary>
internal sealed class TopKMetrics
{
    public const string MeterName = "Pipeline.TopK";

    private readonly CounterCell[] _counted;
    private readonly CounterCell[] _late;

    public TopKMetrics(IMeterFactory meters, string group, IReadOnlyList<Granularity> granularities)
    {
        var meter = meters.Create(MeterName);
        (string, string) g = ("group", group);
        var records = new CounterFamily(meter, "topk_records_total", "Records read by the aggregator, by outcome.");
        Applied = records.For(g, ("outcome", "applied"));
        Duplicates = records.For(g, ("outcome", "duplicate"));
        Future = records.For(g, ("outcome", "future"));
        Poison = records.For(g, ("outcome", "poison"));
        var events = new CounterFamily(meter, "topk_events_total", "Weighted events (sample_rate applied) by window size and outcome.");
        _counted = granularities.Select(w => events.For(g, ("window", w.Label), ("outcome", "counted"))).ToArray();
        _late = granularities.Select(w => events.For(g, ("window", w.Label), ("outcome", "late"))).ToArray();
        WindowsClosed = new CounterFamily(meter, "topk_windows_closed_total", "Window partials closed (per source partition).").For(g);
        var checkpoints = new CounterFamily(meter, "topk_checkpoints_total", "Checkpoints by outcome.");
        Checkpoints = checkpoints.For(g, ("outcome", "ok"));
        CheckpointFailures = checkpoints.For(g, ("outcome", "failed"));
        CheckpointBytes = new CounterFamily(meter, "topk_checkpoint_sketch_bytes_total", "Bytes of sketches written by checkpoints.", "By").For(g);
        Fenced = new CounterFamily(meter, "topk_partitions_fenced_total", "Partitions found owned by another member at checkpoint time.").For(g);
        var published = new CounterFamily(meter, "topk_published_total", "Window results published to Kafka, by outcome.");
        Published = published.For(g, ("outcome", "ok"));
        PublishFailures = published.For(g, ("outcome", "failed"));
        var queries = new CounterFamily(meter, "topk_queries_total", "GET /topk requests by outcome.");
        Queries = queries.For(g, ("outcome", "ok"));
        BadQueries = queries.For(g, ("outcome", "bad_request"));
        OpenWindows = new GaugeFamily(meter, "topk_open_windows", "Open windows held in memory (per source partition and size).").For(g);
        TrackedKeys = new GaugeFamily(meter, "topk_tracked_keys", "Keys held by the in-memory sketches.").For(g);
    }

    public CounterCell Applied { get; }
    public CounterCell Duplicates { get; }
    public CounterCell Future { get; }
    public CounterCell Poison { get; }
    public CounterCell WindowsClosed { get; }
    public CounterCell Checkpoints { get; }
    public CounterCell CheckpointFailures { get; }
    public CounterCell CheckpointBytes { get; }
    public CounterCell Fenced { get; }
    public CounterCell Published { get; }
    public CounterCell PublishFailures { get; }
    public CounterCell Queries { get; }
    public CounterCell BadQueries { get; }
    public GaugeCell OpenWindows { get; }
    public GaugeCell TrackedKeys { get; }

    /// <summary>Adds a batch's outcome once it is counted (a record read again after a failed checkpoint is a duplicate).</summary>
    public void Add(ApplyStats stats)
    {
        Applied.Inc(stats.Records - stats.Duplicates - stats.Future);
        Duplicates.Inc(stats.Duplicates);
        Future.Inc(stats.Future);
        for (var g = 0; g < _counted.Length; g++)
        {
            _counted[g].Inc(stats.Counted[g]);
            _late[g].Inc(stats.Late[g]);
        }
    }
}
