using Confluent.Kafka;

namespace Pipeline.Kafka.Producing;

/// <summary>Tuning of the edge's producer; every default is stated.</summary>
public sealed class ProducerSettings
{
    /// <summary><c>lz4</c> (default) or <c>zstd</c>, <c>gzip</c>, <c>snappy</c>, <c>none</c>.</summary>
    public string Compression { get; set; } = "lz4";

    /// <summary>
    /// How long to wait to fill a batch. Default 20 ms. librdkafka sends one request per partition, and an idempotent
    /// producer keeps at most 5 in flight per partition; when a partition's batch is due while those 5 are still
    /// unanswered, its broker thread polls with no timeout until an answer comes. With keys spread over every
    /// partition and Kafka answering in more than about five lingers, 5 ms kept the edge's broker threads busy
    /// polling: at 10,000 events/s over 12 partitions, 20 ms halved the edge's CPU per event and the whole
    /// pipeline's freshness (BENCHMARKS.md, "the edge's producer linger").
    /// </summary>
    public int LingerMs { get; set; } = 20;

    /// <summary>Maximum batch size in bytes. Default 1 MiB.</summary>
    public int BatchBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a message may wait for delivery before it is reported failed (then it is spooled). Default 120 s.</summary>
    public int MessageTimeoutMs { get; set; } = 120_000;

    /// <summary>librdkafka's own queue bound in messages. Default 1,000,000.</summary>
    public int QueueMaxMessages { get; set; } = 1_000_000;

    /// <summary>librdkafka's own queue bound in KiB. Default 512 MiB.</summary>
    public int QueueMaxKbytes { get; set; } = 512 * 1024;

    /// <summary>
    /// Largest record the producer sends (librdkafka's <c>message.max.bytes</c>): key, value, headers and framing.
    /// Keep it at or below the brokers' and topics' <c>message.max.bytes</c> (Kafka's default is 1,048,588). An
    /// event whose record would be larger is refused at ingest instead of being accepted and then rejected.
    /// Default 1,000,000 (librdkafka's default).
    /// </summary>
    public int MessageMaxBytes { get; set; } = 1_000_000;
}

/// <summary>Builds producers with the settings the pipeline's guarantees depend on.</summary>
public static class ProducerFactory
{
    /// <summary>
    /// Idempotent, acks=all producer: no loss and no duplicates within a session while Kafka is reachable.
    /// Delivery reports carry only the status, so nothing is copied back from native memory.
    /// </summary>
    public static ProducerConfig Config(KafkaOptions kafka, ProducerSettings settings, string clientId)
    {
        var config = kafka.ToConfig<ProducerConfig>();
        config.ClientId ??= clientId;
        config.EnableIdempotence = true;
        config.Acks = Acks.All;
        config.MaxInFlight = 5;
        config.CompressionType = Enum.Parse<CompressionType>(settings.Compression, ignoreCase: true);
        config.LingerMs = settings.LingerMs;
        config.BatchSize = settings.BatchBytes;
        config.MessageTimeoutMs = settings.MessageTimeoutMs;
        config.QueueBufferingMaxMessages = settings.QueueMaxMessages;
        config.QueueBufferingMaxKbytes = settings.QueueMaxKbytes;
        config.MessageMaxBytes = settings.MessageMaxBytes;
        config.DeliveryReportFields = "status";
        return config;
    }

    public static IProducer<byte[]?, byte[]> Build(ProducerConfig config, Action<IProducer<byte[]?, byte[]>, Error>? onError = null,
        Action<IProducer<byte[]?, byte[]>, LogMessage>? onLog = null)
    {
        var builder = new ProducerBuilder<byte[]?, byte[]>(config);
        if (onError is not null) builder.SetErrorHandler(onError);
        if (onLog is not null) builder.SetLogHandler(onLog);
        return builder.Build();
    }
}
