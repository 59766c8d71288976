using Confluent.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Kafka.Embedded;

namespace Pipeline.Bench;

/// <summary>
/// Loading a benchmark's stream into the embedded cluster so that the cluster keeps all of it. Each embedded
/// partition keeps only its newest <see cref="EmbeddedKafkaCluster.PartitionHistoryBytes"/> of batches; an envelope
/// compresses to about 100 bytes with lz4 in large batches, so the benchmarks put at most
/// <see cref="EventsPerPartition"/> events in a partition, spread evenly (round robin, not by host: a Zipf stream
/// keyed by host would put a tenth of it on one partition), and check afterwards that nothing was let go.
/// The sinks measured do not depend on keys; records keep theirs.
/// </summary>
internal static class BenchKafka
{
    public const int EventsPerPartition = 40_000;

    /// <summary>Partitions for a stream: the one asked for, or enough that none holds more than <see cref="EventsPerPartition"/>.</summary>
    public static int PartitionsFor(int events, int? asked) =>
        asked ?? Math.Max(6, (events + EventsPerPartition - 1) / EventsPerPartition);

    /// <summary>Idempotent, acks=all, lz4 as the edge produces, in batches of up to 1 MiB.</summary>
    public static IProducer<byte[]?, byte[]> Producer(string bootstrap) => new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
    {
        BootstrapServers = bootstrap,
        EnableIdempotence = true,
        Acks = Acks.All,
        LingerMs = 20,
        BatchSize = 1024 * 1024,
        CompressionType = CompressionType.Lz4,
    }).SetLogHandler((_, _) => { }).Build();

    /// <summary>Queues a record on partition <paramref name="n"/> mod <paramref name="partitions"/>, waiting while the producer's queue is full.</summary>
    public static void Send(IProducer<byte[]?, byte[]> producer, string topic, int partitions, long n, Message<byte[]?, byte[]> message,
        Action<DeliveryReport<byte[]?, byte[]>>? delivered = null)
    {
        var partition = new TopicPartition(topic, (int)(n % partitions));
        while (true)
        {
            try
            {
                producer.Produce(partition, message, delivered);
                return;
            }
            catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    /// <summary>
    /// Produces <paramref name="count"/> records spread evenly over the partitions and returns each as a consumer will
    /// read it (partition, offset, timestamp), so that contenders reading elsewhere get the same records.
    /// </summary>
    public static List<ConsumedRecord> ProduceAll(string bootstrap, string topic, int partitions, int count, IEnumerable<(byte[]? Key, byte[] Value)> records)
    {
        var produced = new ConsumedRecord?[count];
        using var producer = Producer(bootstrap);
        var n = 0;
        var failed = 0;
        foreach (var (key, value) in records)
        {
            var index = n++;
            Send(producer, topic, partitions, index, new Message<byte[]?, byte[]> { Key = key, Value = value }, report =>
            {
                if (report.Error.IsError) Interlocked.Increment(ref failed);
                else produced[index] = new ConsumedRecord(report.Topic, report.Partition.Value, report.Offset.Value, key, value, report.Timestamp.UtcDateTime);
            });
        }
        producer.Flush(TimeSpan.FromMinutes(2));
        if (failed > 0 || produced.Any(r => r is null)) throw new InvalidOperationException($"{failed} envelopes were not produced");
        return produced.Select(r => r!).ToList();
    }

    /// <summary>Fails when the cluster no longer holds the first records of a partition: the figures would be of less than the stream.</summary>
    public static void AssertKeptWhole(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "bench-marks" }).SetLogHandler((_, _) => { }).Build();
        for (var p = 0; p < partitions; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10));
            if (marks.Low.Value > 0)
                throw new InvalidOperationException($"the embedded cluster let the first {marks.Low.Value:N0} of {marks.High.Value:N0} records of {topic}[{p}] go " +
                    $"(it keeps {EmbeddedKafkaCluster.PartitionHistoryBytes >> 20} MiB a partition): use more --partitions");
        }
    }
}
