using System.Diagnostics.Metrics;
using Confluent.Kafka;
using Pipeline.Edge.Markup;
using Pipeline.Kafka.Producing;

namespace Pipeline.Edge.Publishing;

/// <summary>
/// Every delivery report, in one place, on the producer's report thread: the opaque's sign says whose it is
/// (<see cref="PendingDeliveries"/>). Acknowledged memory events come in runs of one ledger cell and are
/// counted once per run; everything else is settled one by one. One report in
/// <see cref="EdgeMetrics.AckSampleEvery"/> is timed from receipt to acknowledgement.
/// </summary>
internal sealed class DeliveryReports(MemoryPath memory, PendingDeliveries pending, LossLedger ledger, Histogram<double> receiveToAck, TimeProvider time)
{
    /// <summary>One batch of delivery reports.</summary>
    public void Handle(ReadOnlySpan<Delivery> deliveries)
    {
        var runCell = -1;
        var runEvents = 0;
        long runBytes = 0;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 0; i < deliveries.Length; i++)
        {
            ref readonly var delivery = ref deliveries[i];
            var opaque = delivery.Opaque;
            var delivered = delivery.Error == ErrorCode.NoError;
            if (delivered && i % EdgeMetrics.AckSampleEvery == 0) TimeAcknowledgement(delivery, now);
            if (!PendingDeliveries.IsMemoryOpaque(opaque))
            {
                if (pending.TryTake(opaque, out var waiting)) waiting!.Delivered(delivery);
            }
            else if (delivered)
            {
                var cellId = PendingDeliveries.CellOfMemoryOpaque(opaque);
                if (cellId != runCell)
                {
                    memory.Published(runCell, runEvents, runBytes);
                    (runCell, runEvents, runBytes) = (cellId, 0, 0);
                }
                runEvents++;
                runBytes += delivery.ValueLength;
            }
            else
            {
                memory.Settle(ledger[PendingDeliveries.CellOfMemoryOpaque(opaque)], null, delivery.Error, delivery.Topic,
                    delivery.Key, delivery.HasKey, delivery.Value);
            }
        }
        memory.Published(runCell, runEvents, runBytes);
    }

    /// <summary>
    /// Receipt to acknowledgement. The receive time is read from the envelope the report carries (its id), not
    /// from the report's timestamp, which a broker may replace with its own (LogAppendTime).
    /// </summary>
    private void TimeAcknowledgement(in Delivery delivery, long nowMs)
    {
        var receivedMs = EnvelopeWriter.ReceivedAtMilliseconds(delivery.Value);
        if (receivedMs > 0) receiveToAck.Record(Math.Max(0, nowMs - receivedMs) / 1000.0);
    }
}
