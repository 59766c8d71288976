using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Pipeline.Core.Metrics;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// The consumer runtime's instruments, typed in one place (meter <c>Pipeline.Consumer</c>); every series carries
/// the group. Freshness is what a team feels: from the edge's receipt of an event (the Kafka record's
/// timestamp, which the edge sets to <c>received_at</c>) to the moment the sink's write of it returned, that
/// is when it is durable and visible in the team's store.
/// </summary>
internal sealed class ConsumerMetrics
{
    public const string MeterName = "Pipeline.Consumer";

    private readonly string _group;
    private readonly TagList _groupTag;
    private readonly CounterFamily _abandoned;
    private readonly CounterFamily _rebalances;
    private readonly GaugeFamily _lagMessages;
    private readonly GaugeFamily _lagSeconds;
    private readonly Histogram<double> _freshness;
    private readonly Histogram<double> _eventAge;
    private readonly Histogram<double> _writeDuration;
    private readonly Histogram<int> _batchRecords;

    /// <summary>Instruments for <paramref name="group"/>; <paramref name="refresh"/> copies the lag, batch and assignment figures in, once per collection.</summary>
    public ConsumerMetrics(IMeterFactory meters, string group, Action refresh)
    {
        // The gauges copied in by one refresh are read together: it runs once per collection, whichever is read first.
        var round = new SnapshotRound<object>(() =>
        {
            refresh();
            return this;
        });
        _group = group;
        _groupTag = new TagList { { "group", group } };
        var meter = meters.Create(MeterName);
        var records = new CounterFamily(meter, "consumer_records_total", "Records by outcome.");
        Written = records.For(("group", group), ("outcome", "written"));
        DeadLettered = records.For(("group", group), ("outcome", "dead_lettered"));
        Retries = new CounterFamily(meter, "consumer_write_retries_total", "Failed sink writes that will be retried.").For(("group", group));
        Batches = new CounterFamily(meter, "consumer_batches_total", "Batches written.").For(("group", group));
        Paused = new GaugeFamily(meter, "consumer_partitions_paused", "1 while the sink is failing and partitions are paused.").For(("group", group));
        Assigned = new GaugeFamily(meter, "consumer_partitions_assigned", "Partitions this member holds now.", refresh: round.JoinRefresh()).For(("group", group));
        InHand = new GaugeFamily(meter, "consumer_batch_records", "Records read and not yet written (the batch in hand).", refresh: round.JoinRefresh()).For(("group", group));
        _abandoned = new CounterFamily(meter, "consumer_records_abandoned_total", "Records in hand not written on revoke/shutdown; read again from the stored position.");
        _rebalances = new CounterFamily(meter, "consumer_rebalances_total", "Partition assignment changes.");
        _lagMessages = new GaugeFamily(meter, "consumer_lag_messages", "End offset minus the next offset to write.", refresh: round.JoinRefresh());
        _lagSeconds = new GaugeFamily(meter, "consumer_lag_seconds", "Now minus the receive time of the oldest record not yet written.", "s", round.JoinRefresh());
        _freshness = meter.CreateHistogram("consumer_freshness_seconds", "s",
            "Time from an event's receipt at the edge to the end of the sink's write that made it durable (per record).",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.Freshness });
        _eventAge = meter.CreateHistogram("consumer_event_age_seconds", "s",
            "Time from an event's own timestamp (e.g. the syslog header's, by the sender's clock) to the end of the sink's write, for records that carry one.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.Freshness });
        _writeDuration = meter.CreateHistogram("consumer_write_duration_seconds", "s", "How long the sink's successful writes took.",
            tags: null, new InstrumentAdvice<double> { HistogramBucketBoundaries = Buckets.Duration });
        _batchRecords = meter.CreateHistogram<int>("consumer_write_batch_records", "{record}", "Records per successful sink write.",
            tags: null, new InstrumentAdvice<int> { HistogramBucketBoundaries = Buckets.BatchRecords.Select(b => (int)b).ToArray() });
    }

    public CounterCell Written { get; }
    public CounterCell DeadLettered { get; }
    public CounterCell Retries { get; }
    public CounterCell Batches { get; }
    public GaugeCell Paused { get; }
    public GaugeCell Assigned { get; }
    public GaugeCell InHand { get; }

    public CounterCell Abandoned(string why) => _abandoned.For(("group", _group), ("reason", why));

    public CounterCell Rebalances(string kind) => _rebalances.For(("group", _group), ("kind", kind));

    public GaugeCell LagMessages(PartitionKey key) => _lagMessages.For(PartitionLabels(key));

    public GaugeCell LagSeconds(PartitionKey key) => _lagSeconds.For(PartitionLabels(key));

    public void ClearLag()
    {
        _lagMessages.Clear();
        _lagSeconds.Clear();
    }

    /// <summary>A write that succeeded: how long it took, how big it was, and how fresh each of its records is now.</summary>
    public void WriteSucceeded(SinkBatch batch, TimeSpan took, DateTimeOffset at)
    {
        var tag = _groupTag;
        _writeDuration.Record(took.TotalSeconds, tag);
        if (batch.Records.Count == 0) return;
        _batchRecords.Record(batch.Records.Count, tag);
        var now = at.ToUnixTimeMilliseconds();
        for (var i = 0; i < batch.Records.Count; i++)
        {
            _freshness.Record(Seconds(now - batch.Records[i].Timestamp.ToUnixTimeMilliseconds()), tag);
            if (batch.EventTimeMs(i) is > 0 and var eventMs) _eventAge.Record(Seconds(now - eventMs), tag);
        }
    }

    // A record stamped ahead of this host's clock (clocks differ by a little) counts as fresh, not negative.
    private static double Seconds(long milliseconds) => Math.Max(0, milliseconds) / 1000.0;

    private (string, string)[] PartitionLabels(PartitionKey key) =>
        [("group", _group), ("topic", key.Topic), ("partition", key.Partition.ToString(CultureInfo.InvariantCulture))];
}
