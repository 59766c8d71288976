using Pipeline.Consumers.TopK.Windows;
using Pipeline.Core.Metrics;

namespace Pipeline.Consumers.TopK;

/// <summary>The aggregator's counters and gauges, typed in one place.</summary>
internal sealed class TopKMetrics
{
    private readonly Counter[] _counted;
    private readonly Counter[] _late;

    public TopKMetrics(MetricsRegistry registry, string group, IReadOnlyList<Granularity> granularities)
    {
        Applied = registry.Counter("topk_records_total", "Records read by the aggregator, by outcome.", ("group", group), ("outcome", "applied"));
        Duplicates = registry.Counter("topk_records_total", "Records read by the aggregator, by outcome.", ("group", group), ("outcome", "duplicate"));
        Future = registry.Counter("topk_records_total", "Records read by the aggregator, by outcome.", ("group", group), ("outcome", "future"));
        Poison = registry.Counter("topk_records_total", "Records read by the aggregator, by outcome.", ("group", group), ("outcome", "poison"));
        _counted = granularities.Select(g => registry.Counter("topk_events_total",
            "Weighted events (sample_rate applied) by window size and outcome.", ("group", group), ("window", g.Label), ("outcome", "counted"))).ToArray();
        _late = granularities.Select(g => registry.Counter("topk_events_total",
            "Weighted events (sample_rate applied) by window size and outcome.", ("group", group), ("window", g.Label), ("outcome", "late"))).ToArray();
        WindowsClosed = registry.Counter("topk_windows_closed_total", "Window partials closed (per source partition).", ("group", group));
        Checkpoints = registry.Counter("topk_checkpoints_total", "Checkpoints by outcome.", ("group", group), ("outcome", "ok"));
        CheckpointFailures = registry.Counter("topk_checkpoints_total", "Checkpoints by outcome.", ("group", group), ("outcome", "failed"));
        CheckpointBytes = registry.Counter("topk_checkpoint_sketch_bytes_total", "Bytes of sketches written by checkpoints.", ("group", group));
        Fenced = registry.Counter("topk_partitions_fenced_total", "Partitions found owned by another member at checkpoint time.", ("group", group));
        Published = registry.Counter("topk_published_total", "Window results published to Kafka, by outcome.", ("group", group), ("outcome", "ok"));
        PublishFailures = registry.Counter("topk_published_total", "Window results published to Kafka, by outcome.", ("group", group), ("outcome", "failed"));
        Queries = registry.Counter("topk_queries_total", "GET /topk requests by outcome.", ("group", group), ("outcome", "ok"));
        BadQueries = registry.Counter("topk_queries_total", "GET /topk requests by outcome.", ("group", group), ("outcome", "bad_request"));
        OpenWindows = registry.Gauge("topk_open_windows", "Open windows held in memory (per source partition and size).", ("group", group));
        TrackedKeys = registry.Gauge("topk_tracked_keys", "Keys held by the in-memory sketches.", ("group", group));
    }

    public Counter Applied { get; }
    public Counter Duplicates { get; }
    public Counter Future { get; }
    public Counter Poison { get; }
    public Counter WindowsClosed { get; }
    public Counter Checkpoints { get; }
    public Counter CheckpointFailures { get; }
    public Counter CheckpointBytes { get; }
    public Counter Fenced { get; }
    public Counter Published { get; }
    public Counter PublishFailures { get; }
    public Counter Queries { get; }
    public Counter BadQueries { get; }
    public Gauge OpenWindows { get; }
    public Gauge TrackedKeys { get; }

    /// <summary>Adds a batch's outcome (after its checkpoint is stored).</summary>
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
