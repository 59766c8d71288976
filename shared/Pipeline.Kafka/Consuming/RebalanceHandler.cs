using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Partitions coming and going. Assigned: their start is asked of the sink (exactly-once sinks) and they join a
/// pause in progress. Revoked: the records in hand are finished within the drain timeout, or abandoned to be
/// read again from the stored position; written positions are committed at once. Lost: another member may own
/// them already, so nothing of theirs is written or committed — the records in hand are discarded. Runs inside
/// the client's callbacks, on the poll thread; every wait in it is bounded.
/// </summary>
internal sealed class RebalanceHandler(
    ConsumerOptions options,
    IBatchSink sink,
    BatchInHand batch,
    WriteCoordinator writer,
    StartPositions starts,
    BoundedRun bounded,
    LagMonitor lag,
    KafkaCommitSchedule commits,
    ConsumerMetrics metrics,
    TimeProvider time,
    ILogger log)
{
    /// <summary>Partitions were added while the sink is failing: the next loop pauses them too.</summary>
    public bool AssignedWhilePaused { get; set; }

    public CancellationToken Stopping { get; set; }

    public IEnumerable<TopicPartitionOffset> OnAssigned(IConsumer<byte[]?, byte[]> consumer, List<TopicPartition> partitions)
    {
        ConsumerLog.Assigned(log, options.Group, string.Join(",", partitions));
        metrics.Rebalances("assigned").Inc();
        var keys = partitions.Select(Key).ToList();
        lag.Track(keys);
        AssignedWhilePaused = writer.Outage.Paused;
        // The sink is called by one thread at a time.
        writer.FinishInFlight(Timeout.InfiniteTimeSpan);
        var stored = starts.Assigned(keys, Stopping);
        foreach (var (key, offset) in stored) lag.Started(key, offset);
        bounded.Assigned(consumer, partitions, stored, starts.Awaiting);
        return partitions.Select(tp => stored.TryGetValue(Key(tp), out var offset)
            ? new TopicPartitionOffset(tp, new Offset(offset))
            : new TopicPartitionOffset(tp, Offset.Unset));
    }

    public void OnRevoked(IConsumer<byte[]?, byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        ConsumerLog.Revoked(log, options.Group, string.Join(",", partitions.Select(p => p.TopicPartition)));
        metrics.Rebalances("revoked").Inc();
        var keys = partitions.Select(p => Key(p.TopicPartition)).ToHashSet();
        Drain(consumer, "revoke", keys);
        // The sink first: one that stores later (IDeferredStorageSink) stores what it holds for these partitions as
        // they go, and Kafka is told that too before another member takes them.
        RevokeFromSink(keys);
        writer.TakeStored();
        writer.CommitPending();
        Forget(consumer, keys);
    }

    public void OnLost(IConsumer<byte[]?, byte[]> consumer, List<TopicPartitionOffset> partitions)
    {
        ConsumerLog.Lost(log, options.Group, string.Join(",", partitions.Select(p => p.TopicPartition)));
        metrics.Rebalances("lost").Inc();
        var keys = partitions.Select(p => Key(p.TopicPartition)).ToHashSet();
        // A write in flight may still land (an exactly-once sink keeps rows and offsets together either way);
        // its progress is not recorded here, and the sink is not called again before it ends.
        writer.InFlight.Abandon(options.DrainTimeout);
        var discarded = batch.RemovePartitions(keys);
        if (discarded > 0) metrics.Abandoned("lost").Inc(discarded);
        writer.Isolation.Forget(keys);
        RevokeFromSink(keys);
        Forget(consumer, keys);
    }

    /// <summary>
    /// Finishes the records in hand within the drain timeout, or abandons them to be read again: partitions
    /// leaving (<paramref name="leaving"/>; null on shutdown) from the stored position by whoever gets them,
    /// partitions staying (an incremental revoke) by seeking back to their first abandoned record.
    /// </summary>
    public void Drain(IConsumer<byte[]?, byte[]> consumer, string why, HashSet<PartitionKey>? leaving)
    {
        var started = time.GetTimestamp();
        List<ConsumedRecord> abandoned;
        var inFlight = writer.InFlight.Batch;
        if (!writer.FinishInFlight(options.DrainTimeout))
        {
            // Its outcome is unknown: everything in hand is read again from the stored position.
            writer.InFlight.Abandon(TimeSpan.Zero);
            abandoned = [.. inFlight!.Records, .. batch.Snapshot()];
        }
        else
        {
            if (batch.Count == 0 && !writer.Isolation.HasDeadLettered) return;
            var left = options.DrainTimeout - time.GetElapsedTime(started);
            using var timeout = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.Zero, time);
            try
            {
                writer.WriteInHand(timeout.Token);
                return;
            }
            catch (Exception)
            {
                abandoned = [.. batch.Snapshot()];
            }
        }
        ConsumerLog.Abandoned(log, options.Group, abandoned.Count);
        metrics.Abandoned(why).Inc(abandoned.Count);
        if (leaving is not null)
        {
            foreach (var first in abandoned.Where(r => !leaving.Contains(r.PartitionKey)).GroupBy(r => r.PartitionKey).Select(g => g.MinBy(r => r.Offset)!))
                consumer.Seek(new TopicPartitionOffset(first.Topic, first.Partition, first.Offset));
        }
        batch.Clear();
        writer.Isolation.ForgetAll();
    }

    private void Forget(IConsumer<byte[]?, byte[]> consumer, HashSet<PartitionKey> keys)
    {
        // A pause is kept by the client across assignments: a partition paused while the sink failed would
        // stay paused if it came back to this member, with nothing left to resume it.
        if (writer.Outage.Paused)
        {
            try
            {
                consumer.Resume(keys.Select(k => new TopicPartition(k.Topic, k.Partition)));
            }
            catch (KafkaException ex)
            {
                ConsumerLog.KafkaError(log, options.Group, ex.Error.Code.ToString(), ex.Error.Reason);
            }
        }
        lag.Forget(keys);
        starts.Forget(keys);
        commits.Forget(keys);
        if (lag.IsEmpty)
        {
            writer.Outage.Reset();
            metrics.Paused.Set(0);
        }
    }

    private void RevokeFromSink(HashSet<PartitionKey> keys)
    {
        try
        {
            sink.OnRevokedAsync(keys, CancellationToken.None).GetAwaiter().GetResult();
        }
        catch (Exception ex)
        {
            ConsumerLog.LoopFailed(log, ex, options.Group);
        }
    }

    private static PartitionKey Key(TopicPartition tp) => new(tp.Topic, tp.Partition.Value);
}
