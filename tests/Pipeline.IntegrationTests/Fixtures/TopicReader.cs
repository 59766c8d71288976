using Confluent.Kafka;
using Pipeline.Core.Envelope;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>Reads a topic from the beginning with a throw-away group, for assertions on what reached Kafka.</summary>
internal static class TopicReader
{
    /// <summary>Reads until <paramref name="expected"/> records arrived, or the timeout passed (then returns what it has).</summary>
    public static List<ConsumeResult<byte[]?, byte[]>> Read(string bootstrap, string topic, int expected, TimeSpan timeout)
    {
        using var consumer = FromTheBeginning(bootstrap, topic);
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
        using var consumer = FromTheBeginning(bootstrap, topic);
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

    /// <summary>A consumer of a throw-away group subscribed to <paramref name="topic"/> from its first record, committing nothing.</summary>
    private static IConsumer<byte[]?, byte[]> FromTheBeginning(string bootstrap, string topic)
    {
        var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap,
            GroupId = "reader-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).SetLogHandler((_, _) => { }).Build();
        consumer.Subscribe(topic);
        return consumer;
    }

    public static List<TelemetryEvent> ReadEvents(string bootstrap, string topic, int expected, TimeSpan timeout) =>
        Read(bootstrap, topic, expected, timeout).Select(r => EnvelopeCodec.Decode(r.Message.Value)).ToList();

    /// <summary>
    /// Sum of end offsets over a topic's partitions: how many records were ever appended to it. Counted by
    /// offsets, not by reading, because a broker may have let the oldest go (the embedded one keeps 5 MiB a
    /// partition); <see cref="AssertKeptWhole"/> says whether it still holds them all.
    /// </summary>
    public static long EndOffsetSum(string bootstrap, string topic, int partitions) =>
        Watermarks(bootstrap, topic, partitions).Sum(w => w.High);

    /// <summary>Low and high watermark of partitions 0 to <paramref name="partitions"/> - 1.</summary>
    public static List<(long Low, long High)> Watermarks(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "marks-" + Guid.NewGuid().ToString("N") })
            .SetLogHandler((_, _) => { }).Build();
        return Enumerable.Range(0, partitions).Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)))
            .Select(w => (w.Low.Value, w.High.Value)).ToList();
    }

    /// <summary>How many partitions the topic has, from the broker's metadata.</summary>
    public static int Partitions(string bootstrap, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).SetLogHandler((_, _) => { }).Build();
        var metadata = admin.GetMetadata(topic, TimeSpan.FromSeconds(10)).Topics.Single();
        if (metadata.Error.IsError) throw new InvalidOperationException($"{topic}: {metadata.Error.Reason}");
        return metadata.Partitions.Count;
    }

    /// <summary>
    /// Fails when the broker no longer holds the first records of a topic (a partition whose low watermark moved
    /// up): on the embedded cluster, the sign of a test that produced more than a partition keeps.
    /// </summary>
    public static void AssertKeptWhole(string bootstrap, string topic)
    {
        var marks = Watermarks(bootstrap, topic, Partitions(bootstrap, topic));
        var evicted = marks.Select((w, p) => (Partition: p, w.Low, w.High)).Where(w => w.Low > 0).ToList();
        if (evicted.Count > 0)
            throw new InvalidOperationException($"the broker no longer holds the first {evicted.Sum(e => e.Low):N0} of {marks.Sum(w => w.High):N0} records of {topic} " +
                $"({string.Join(", ", evicted.Select(e => $"partition {e.Partition} starts at {e.Low:N0} of {e.High:N0}"))}): more than a partition keeps " +
                "(the embedded cluster: 5 MiB of batches); produce compressed, spread over more partitions, or send less");
    }
}
