using Confluent.Kafka;

namespace Pipeline.Kafka.Consuming;

/// <summary>What a group member's Kafka client calls back into the runtime for: partitions moving, and errors.</summary>
internal sealed record ConsumerCallbacks(
    Func<IConsumer<byte[]?, byte[]>, List<TopicPartition>, IEnumerable<TopicPartitionOffset>> Assigned,
    Action<IConsumer<byte[]?, byte[]>, List<TopicPartitionOffset>> Revoked,
    Action<IConsumer<byte[]?, byte[]>, List<TopicPartitionOffset>> Lost,
    Action<IConsumer<byte[]?, byte[]>, Error> Error);

/// <summary>Where a refused record goes (<c>dlq.&lt;group&gt;</c>); publishing waits until Kafka has it.</summary>
internal interface IDeadLetters : IDisposable
{
    string Topic { get; }

    /// <summary>Publishes and waits; throws when Kafka did not take the record.</summary>
    void Publish(ConsumedRecord record, string reason, CancellationToken cancellationToken);
}

/// <summary>
/// Builds the runtime's Kafka clients. The seam lets the runtime's timing, batching, pausing and rebalance
/// handling be driven by unit tests with a fake consumer and a fake clock; production uses <see cref="KafkaClients"/>.
/// </summary>
internal interface IConsumerFactory
{
    IConsumer<byte[]?, byte[]> CreateConsumer(ConsumerConfig config, ConsumerCallbacks callbacks);

    IDeadLetters CreateDeadLetters(KafkaOptions kafka, string group);
}

/// <summary>The real clients: Confluent.Kafka's consumer and an idempotent producer for the dead-letter topic.</summary>
internal sealed class KafkaClients : IConsumerFactory
{
    public static readonly KafkaClients Instance = new();

    public IConsumer<byte[]?, byte[]> CreateConsumer(ConsumerConfig config, ConsumerCallbacks callbacks) =>
        new ConsumerBuilder<byte[]?, byte[]>(config)
            .SetPartitionsAssignedHandler(callbacks.Assigned)
            .SetPartitionsRevokedHandler(callbacks.Revoked)
            .SetPartitionsLostHandler(callbacks.Lost)
            .SetErrorHandler(callbacks.Error)
            .Build();

    public IDeadLetters CreateDeadLetters(KafkaOptions kafka, string group) => new DeadLetterPublisher(kafka, group);
}
