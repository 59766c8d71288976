using System.Text;
using Confluent.Kafka;
using Pipeline.Consumers.Siem.Normalising;
using Pipeline.Core;
using Pipeline.Core.Envelope;
using Pipeline.Kafka;
using Pipeline.Kafka.Producing;

namespace Pipeline.Consumers.Siem.Forwarding;

/// <summary>
/// Publishes archived alerts to the <c>alerts</c> topic as v1 envelopes (kind <c>event</c>, the ECS alert
/// as payload, the alert's deterministic id as envelope id), with an idempotent acks=all producer. A batch
/// is confirmed when Kafka persisted every message of it. Working from the archive means an alert is
/// published only once it is durable, and a crash before publishing is made good after the restart.
/// </summary>
internal sealed class KafkaAlertDestination(KafkaOptions kafka, string topic, string group) : IForwardDestination
{
    private readonly IProducer<byte[]?, byte[]> _producer = ProducerFactory.Build(
        ProducerFactory.Config(kafka, new ProducerSettings { LingerMs = 5, MessageTimeoutMs = 30_000 }, "siem-alerts-" + group));

    public int MaxInFlight => 1;

    public TimeSpan ConfirmInterval => TimeSpan.FromSeconds(1);

    public async Task SendAsync(OutgoingBatch batch, CancellationToken cancellationToken)
    {
        var deliveries = new List<Task<DeliveryResult<byte[]?, byte[]>>>(batch.Records.Count);
        foreach (var record in batch.Records)
        {
            var doc = record.Json;
            var envelope = new TelemetryEvent
            {
                Id = CefFormatter.Text(doc, EcsFields.EventId) ?? "",
                ReceivedAt = DateTimeOffset.TryParse(CefFormatter.Text(doc, EcsFields.EventCreated), System.Globalization.CultureInfo.InvariantCulture,
                    System.Globalization.DateTimeStyles.AssumeUniversal, out var created) ? created : DateTimeOffset.UnixEpoch,
                Kind = EventKinds.Event,
                Source = new EventSource { Transport = "internal", Edge = Environment.MachineName },
                Tags = new Dictionary<string, string>
                {
                    ["producer"] = "siem",
                    ["group"] = group,
                    ["rule"] = CefFormatter.Text(doc, "rule.name") ?? "",
                    ["archive_seq"] = record.Seq.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
                Message = CefFormatter.Text(doc, EcsFields.Message),
                Payload = doc,
            };
            var message = new Message<byte[]?, byte[]>
            {
                // One rule and group stay in one partition, in order.
                Key = Encoding.UTF8.GetBytes((CefFormatter.Text(doc, "rule.name") ?? "") + "|" + (CefFormatter.Text(doc, "pipeline.alert.group_value") ?? "")),
                Value = EnvelopeCodec.Encode(envelope),
                Headers = new Headers
                {
                    { KafkaHeaders.Schema, Encoding.ASCII.GetBytes(EnvelopeCodec.SchemaVersion) },
                    { KafkaHeaders.ContentType, Encoding.ASCII.GetBytes(EnvelopeCodec.ContentType) },
                },
            };
            deliveries.Add(_producer.ProduceAsync(topic, message, cancellationToken));
        }
        var results = await Task.WhenAll(deliveries);
        if (results.Any(r => r.Status != PersistenceStatus.Persisted)) throw new KafkaException(new Error(ErrorCode.Local_Fail, "an alert was not persisted"));
        batch.Confirmed = true;
    }

    public Task ConfirmAsync(IReadOnlyCollection<OutgoingBatch> inFlight, CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask ResetAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
        return ValueTask.CompletedTask;
    }
}
