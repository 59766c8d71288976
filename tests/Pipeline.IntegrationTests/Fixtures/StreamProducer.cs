using Confluent.Kafka;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// How the tests write their streams to Kafka: idempotent, acks=all and lz4 as the edge produces, in batches of
/// up to 1 MiB. Compressed large batches matter on the embedded cluster, whose partitions keep only the newest
/// 5 MiB of stored batches (<see cref="Pipeline.Kafka.Embedded.EmbeddedKafkaCluster.PartitionHistoryBytes"/>):
/// produced this way a partition holds several times the events it would hold sent uncompressed one by one.
/// <see cref="Complete"/> waits for every acknowledgement and then checks that the broker still holds every
/// record of the topics written, so a stream too large for the broker fails here, by name, not later as a
/// missing row.
/// </summary>
internal sealed class StreamProducer : IDisposable
{
    private readonly string _bootstrap;
    private readonly IProducer<byte[]?, byte[]> _producer;
    private readonly HashSet<string> _topics = [];
    private int _failed;

    public StreamProducer(string bootstrap)
    {
        _bootstrap = bootstrap;
        _producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap,
            EnableIdempotence = true,
            Acks = Acks.All,
            CompressionType = CompressionType.Lz4,
            LingerMs = 20,
            BatchSize = 1024 * 1024,
        }).SetLogHandler((_, _) => { }).Build();
    }

    /// <summary>Queues one message (to a partition when given, else by key), waiting while the producer's queue is full.</summary>
    public void Send(string topic, Message<byte[]?, byte[]> message, int? partition = null, Action<DeliveryReport<byte[]?, byte[]>>? delivered = null)
    {
        _topics.Add(topic);
        void Report(DeliveryReport<byte[]?, byte[]> r)
        {
            if (r.Error.IsError) Interlocked.Increment(ref _failed);
            else delivered?.Invoke(r);
        }
        while (true)
        {
            try
            {
                if (partition is { } p) _producer.Produce(new TopicPartition(topic, p), message, Report);
                else _producer.Produce(topic, message, Report);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                _producer.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>Waits for every acknowledgement; throws when a message failed or the broker no longer holds all it was given.</summary>
    public void Complete()
    {
        var left = _producer.Flush(TimeSpan.FromSeconds(120));
        if (left > 0 || _failed > 0) throw new InvalidOperationException($"{_failed} messages failed and {left} were not acknowledged");
        foreach (var topic in _topics) TopicReader.AssertKeptWhole(_bootstrap, topic);
    }

    public void Dispose() => _producer.Dispose();
}
