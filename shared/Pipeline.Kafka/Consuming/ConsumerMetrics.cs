using Pipeline.Core.Metrics;

namespace Pipeline.Kafka.Consuming;

/// <summary>The consumer runtime's metrics, typed in one place.</summary>
internal sealed class ConsumerMetrics(MetricsRegistry registry, string group)
{
    public Counter Written { get; } = registry.Counter("consumer_records_total", "Records by outcome.", ("group", group), ("outcome", "written"));
    public Counter DeadLettered { get; } = registry.Counter("consumer_records_total", "Records by outcome.", ("group", group), ("outcome", "dead_lettered"));
    public Counter Retries { get; } = registry.Counter("consumer_write_retries_total", "Failed sink writes that will be retried.", ("group", group));
    public Counter Batches { get; } = registry.Counter("consumer_batches_total", "Batches written.", ("group", group));
    public Gauge Paused { get; } = registry.Gauge("consumer_partitions_paused", "1 while the sink is failing and partitions are paused.", ("group", group));
    public Gauge Assigned { get; } = registry.Gauge("consumer_partitions_assigned", "Partitions this member holds now.", ("group", group));
    public Gauge InHand { get; } = registry.Gauge("consumer_batch_records", "Records read and not yet written (the batch in hand).", ("group", group));

    public Counter Abandoned(string why) =>
        registry.Counter("consumer_records_abandoned_total", "Records in hand not written on revoke/shutdown; read again from the stored position.", ("group", group), ("reason", why));

    public Counter Rebalances(string kind) =>
        registry.Counter("consumer_rebalances_total", "Partition assignment changes.", ("group", group), ("kind", kind));

    public Gauge LagMessages(PartitionKey key) =>
        registry.Gauge("consumer_lag_messages", "End offset minus the next offset to write.", ("group", group), ("topic", key.Topic), ("partition", key.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public Gauge LagSeconds(PartitionKey key) =>
        registry.Gauge("consumer_lag_seconds", "Now minus the receive time of the oldest record not yet written.", ("group", group), ("topic", key.Topic), ("partition", key.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)));

    public void ClearLag()
    {
        registry.ClearGauge("consumer_lag_messages");
        registry.ClearGauge("consumer_lag_seconds");
    }
}
