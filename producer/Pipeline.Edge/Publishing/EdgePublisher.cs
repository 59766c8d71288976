using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Core;
using Pipeline.Core.Envelope;
using Pipeline.Core.Hosting;
using Pipeline.Edge.Routing;
using Pipeline.Kafka;
using Pipeline.Kafka.Producing;

namespace Pipeline.Edge.Publishing;

/// <summary>What became of an event handed to the publisher.</summary>
internal enum PublishOutcome
{
    /// <summary>In the producer's queue (memory mode): the idempotent producer will deliver it.</summary>
    Accepted,
    /// <summary>No room anywhere: the caller drops it (UDP), pushes back (TCP) or answers 503 (HTTP).</summary>
    Full,
}

/// <summary>
/// Hands envelopes to the one shared Kafka producer and keeps the loss ledger true to what Kafka
/// acknowledged. It never blocks: the producer's queue is bounded, and a full queue is reported, not waited on.
/// </summary>
internal sealed class EdgePublisher : IDisposable
{
    private static readonly Headers EnvelopeHeaders = new()
    {
        { KafkaHeaders.Schema, "1"u8.ToArray() },
        { KafkaHeaders.ContentType, "application/json"u8.ToArray() },
    };

    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly ILogger<EdgePublisher> _log;
    private readonly HealthState _health;

    public EdgePublisher(KafkaOptions kafka, ProducerSettings settings, string clientId, HealthState health, ILogger<EdgePublisher> log)
    {
        _log = log;
        _health = health;
        _health.Report("kafka", true, "connecting");
        _producer = ProducerFactory.Build(ProducerFactory.Config(kafka, settings, clientId), OnError);
    }

    public PublishOutcome Publish(EventRoute route, LedgerCell cell, byte[]? key, byte[] value)
    {
        var pending = new PendingEvent(this, cell);
        // Counted before the hand-over: the delivery report may arrive before Produce returns.
        cell.ReceivedIntoMemory();
        try
        {
            _producer.Produce(route.Topic, new Message<byte[]?, byte[]> { Key = key, Value = value, Headers = EnvelopeHeaders }, pending.OnDelivered);
        }
        catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
        {
            cell.Retract();
            return PublishOutcome.Full;
        }
        return PublishOutcome.Accepted;
    }

    /// <summary>Waits until every event handed over so far is acknowledged or failed, up to <paramref name="timeout"/>.</summary>
    public int Flush(TimeSpan timeout) => _producer.Flush(timeout);

    public void Dispose() => _producer.Dispose();

    private void OnError(IProducer<byte[]?, byte[]> producer, Error error)
    {
        if (error.Code == ErrorCode.Local_AllBrokersDown) _health.Report("kafka", false, "all brokers down");
        EdgeLog.KafkaError(_log, error.Code.ToString(), error.Reason);
    }

    // One per event: the delivery report must find the ledger cell of its own event.
    private sealed class PendingEvent(EdgePublisher publisher, LedgerCell cell)
    {
        public void OnDelivered(DeliveryReport<byte[]?, byte[]> report)
        {
            if (report.Error.Code == ErrorCode.NoError)
            {
                cell.MemoryPublished();
                return;
            }
            // Permanent refusals will not get better by retrying; anything else is kept for a later try by the spool.
            cell.MemoryDropped(DropReason.KafkaRejected);
            EdgeLog.DeliveryFailed(publisher._log, report.Error.Code.ToString(), report.Error.Reason);
        }
    }
}
