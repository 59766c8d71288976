using Confluent.Kafka;
using Pipeline.Core.Envelope;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Reads a topic from the beginning with a throw-away group, for assertions on what reached Kafka.</summary>
internal static class TopicReader
{
    /// <summary>Reads until <paramref name="expected"/> records arrived, or the timeout passed (then returns what it has).</summary>
    public static List<ConsumeResult<byte[]?, byte[]>> Read(string bootstrap, string topic, int expected, TimeSpan timeout)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        var results = new List<ConsumeResult<byte[]?, byte[]>>();
        var deadline = DateTime.UtcNow + timeout;
        while (results.Count < expected && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result?.Message is not null) results.Add(result);
        }
        consumer.Close();
        return results;
    }

    public static List<TelemetryEvent> ReadEvents(string bootstrap, string topic, int expected, TimeSpan timeout) =>
        Read(bootstrap, topic, expected, timeout).Select(r => EnvelopeCodec.Decode(r.Message.Value)).ToList();

    /// <summary>Sum of end offsets over a topic's partitions: how many records it holds (the embedded broker keeps them all).</summary>
    public static long EndOffsetSum(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "marks-" + Guid.NewGuid().ToString("N") })
            .SetLogHandler((_, _) => { }).Build();
        return Enumerable.Range(0, partitions).Sum(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }
}
