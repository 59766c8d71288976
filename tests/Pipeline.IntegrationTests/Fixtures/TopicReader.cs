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

    /// <summary>Reads from the beginning until what was read satisfies <paramref name="done"/>; throws with what it saw when the timeout passes first.</summary>
    public static List<ConsumeResult<byte[]?, byte[]>> ReadUntil(string bootstrap, string topic, Func<IReadOnlyList<ConsumeResult<byte[]?, byte[]>>, bool> done,
        TimeSpan timeout, string what)
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
        var checkedAt = 0;
        while (true)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result?.Message is not null) results.Add(result);
            // Judged after each quiet poll or every 1,000 records, not after every record.
            if ((result?.Message is null || results.Count - checkedAt >= 1000) && results.Count > checkedAt)
            {
                checkedAt = results.Count;
                if (done(results)) break;
            }
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{what}: not in the {results.Count} records of {topic} read within {timeout}");
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
