using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Edge.Markup;
using Pipeline.Edge.Publishing.Spool;
using Pipeline.Kafka.Producing;

namespace Pipeline.Edge.Publishing;

/// <summary>
/// Memory mode: events handed straight to the producer, and how each one ends — acknowledged, refused by Kafka
/// for good, or moved to the spool when a delivery fails in a way a retry may fix (purged at shutdown, timed out).
/// </summary>
internal sealed class MemoryPath(IOpaqueProducer producer, MemoryBuffer memory, AdmissionPolicy policy, PendingDeliveries pending,
    SpoolLog spool, LossLedger ledger, KafkaReachability kafka, ILogger log)
{
    /// <summary>
    /// Hands one event to the producer; false when the producer's own queue is full (nothing was counted, the
    /// caller spools it). An event nobody waits for keeps no managed state while in flight: its opaque names its
    /// ledger cell, and should it fail, the delivery report gives back its key, value and topic to spool.
    /// </summary>
    public bool TryProduce(string topic, LedgerCell cell, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value, DeliveryWaiter? waiter)
    {
        long opaque;
        if (waiter is null)
        {
            opaque = PendingDeliveries.MemoryOpaque(cell.Id);
        }
        else
        {
            opaque = pending.Add(new WaitedMemoryEvent(this, cell, waiter));
            waiter.Expect();
        }
        // Counted before the hand-over: the delivery report may arrive before produce returns.
        cell.ReceivedIntoMemory();
        memory.Enter(value.Length);
        var status = producer.TryProduce(topic, key, hasKey, value, opaque, out var error, EnvelopeWriter.ReceivedAtMilliseconds(value));
        if (status == ProduceStatus.Queued) return true;
        if (waiter is not null) pending.Forget(opaque);
        if (status == ProduceStatus.QueueFull)
        {
            // Not taken: undo the accounting; the caller spools it.
            cell.Retract();
            memory.Leave(1, value.Length);
            waiter?.Unexpect();
            return false;
        }
        // Refused at once (e.g. larger than the broker allows): settled as a failed delivery.
        Settle(cell, waiter, error, topic, key, hasKey, value);
        return true;
    }

    /// <summary>A run of acknowledged events of one ledger cell (reports come in such runs: one update per run).</summary>
    public void Published(int cellId, int events, long bytes)
    {
        if (events == 0) return;
        memory.Leave(events, bytes);
        ledger[cellId].MemoryPublished(events);
        kafka.Acknowledged();
    }

    /// <summary>A memory event's delivery, other than a plain success nobody waits for (those come in runs).</summary>
    public void Settle(LedgerCell cell, DeliveryWaiter? waiter, ErrorCode error, string topic, ReadOnlySpan<byte> key, bool hasKey, ReadOnlySpan<byte> value)
    {
        memory.Leave(1, value.Length);
        if (error == ErrorCode.NoError)
        {
            kafka.Acknowledged();
            cell.MemoryPublished();
            waiter?.Signal(true);
            return;
        }
        if (KafkaReachability.IsPermanent(error))
        {
            cell.MemoryDropped(DropReason.KafkaRejected);
            EdgeLog.DeliveryFailed(log, error.ToString(), "refused by Kafka");
        }
        else if (spool.TryAppend(new SpoolEntry(cell.Listener, cell.Route, topic, key, hasKey, value), out _))
        {
            // Purged at shutdown, or failed in a way a retry may fix: kept in the spool for the next attempt.
            cell.MemoryToSpool();
            policy.SpoolAppended();
        }
        else
        {
            cell.MemoryDropped(DropReason.BufferFull);
        }
        waiter?.Signal(false);
    }

    /// <summary>An event handed to the producer from memory that a request waits for (<c>?ack=kafka</c>).</summary>
    private sealed class WaitedMemoryEvent(MemoryPath path, LedgerCell cell, DeliveryWaiter waiter) : IPendingDelivery
    {
        public void Delivered(in Delivery delivery) =>
            path.Settle(cell, waiter, delivery.Error, delivery.Error == ErrorCode.NoError ? "" : delivery.Topic,
                delivery.Key, delivery.HasKey, delivery.Value);
    }
}
