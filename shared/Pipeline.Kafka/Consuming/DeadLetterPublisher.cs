using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Pipeline.Core;

namespace Pipeline.Kafka.Consuming;

/// <summary>
/// Sends records a sink refused to <c>dlq.&lt;group&gt;</c>, with the reason and where they came from in
/// headers, and waits for Kafka's acknowledgement: offsets past a record are stored only once it is safe there.
/// </summary>
internal sealed class DeadLetterPublisher : IDeadLetters
{
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly string _group;

    public DeadLetterPublisher(KafkaOptions kafka, string group)
    {
        _group = group;
        Topic = Topics.DeadLetter(group);
        var config = kafka.ToConfig<ProducerConfig>();
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        config.ClientId ??= "dlq-" + group;
        config.MessageTimeoutMs = 30_000;
        _producer = new ProducerBuilder<byte[]?, byte[]>(config).Build();
    }

    public string Topic { get; }

    /// <summary>Publishes and waits; throws when Kafka did not take the record (the runtime then retries later).</summary>
    public void Publish(ConsumedRecord record, string reason, CancellationToken cancellationToken)
    {
        var headers = new Headers
        {
            { KafkaHeaders.DlqReason, Encoding.UTF8.GetBytes(reason.Length > 4000 ? reason[..4000] : reason) },
            { KafkaHeaders.DlqTopic, Encoding.UTF8.GetBytes(record.Topic) },
            { KafkaHeaders.DlqPartition, Encoding.ASCII.GetBytes(record.Partition.ToString(CultureInfo.InvariantCulture)) },
            { KafkaHeaders.DlqOffset, Encoding.ASCII.GetBytes(record.Offset.ToString(CultureInfo.InvariantCulture)) },
            { KafkaHeaders.DlqGroup, Encoding.UTF8.GetBytes(_group) },
        };
        var delivery = _producer.ProduceAsync(Topic, new Message<byte[]?, byte[]> { Key = record.Key, Value = record.Value, Headers = headers }, cancellationToken);
        delivery.Wait(cancellationToken);
    }

    public void Dispose()
    {
        _producer.Flush(TimeSpan.FromSeconds(5));
        _producer.Dispose();
    }
}
