using Confluent.Kafka;

namespace Pipeline.Kafka;

/// <summary>
/// How to reach Kafka. <see cref="Properties"/> passes any librdkafka setting through (TLS, SASL,
/// timeouts), e.g. <c>Kafka__Properties__security.protocol=SASL_SSL</c>; settings the pipeline owns for
/// correctness (idempotence, acks, offset handling) are applied after them and cannot be weakened.
/// </summary>
public sealed class KafkaOptions
{
    public const string Section = "Kafka";

    /// <summary>Comma-separated brokers. Default <c>127.0.0.1:9092</c>.</summary>
    public string BootstrapServers { get; set; } = "127.0.0.1:9092";

    /// <summary>Extra librdkafka properties, passed through as they are. Secrets belong in environment variables.</summary>
    public Dictionary<string, string> Properties { get; set; } = new(StringComparer.Ordinal);

    /// <summary>A client configuration holding the pass-through properties and the bootstrap servers.</summary>
    public T ToConfig<T>() where T : ClientConfig, new()
    {
        var config = new T();
        foreach (var (key, value) in Properties) config.Set(key, value);
        config.BootstrapServers = BootstrapServers;
        return config;
    }
}
