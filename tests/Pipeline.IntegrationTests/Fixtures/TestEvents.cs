using System.Text;
using Confluent.Kafka;
using Pipeline.Core.Envelope;
using Pipeline.Core.Ids;
using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>v1 envelopes as the edge would publish them, produced with the record timestamp set to the receive time.</summary>
internal static class TestEvents
{
    public static TelemetryEvent Syslog(string host, string app, int severity, string message, DateTimeOffset at, string? procid = null) => new()
    {
        Id = Ulid.NewString(at),
        ReceivedAt = at,
        Kind = EventKinds.Log,
        Source = new EventSource { Transport = "tcp", Ip = "192.0.2.10", Port = 514, Edge = "edge-test" },
        Syslog = new SyslogFields { Facility = 3, Severity = severity, Hostname = host, AppName = app, Procid = procid, Rfc = "5424" },
        Message = message,
        ParseStatus = "ok",
    };

    /// <summary>Numbered events spread over hosts, <paramref name="spacing"/> apart from <paramref name="start"/>.</summary>
    public static List<TelemetryEvent> Many(int count, DateTimeOffset start, TimeSpan spacing, string prefix = "event") =>
        Enumerable.Range(0, count).Select(i => Syslog($"host-{i % 17}", "app", 6, $"{prefix} {i}", start + spacing * i)).ToList();

    /// <summary>
    /// Produces the events (key: the host, or <paramref name="partition"/> when given) and waits for every
    /// acknowledgement; returns how many went to each partition.
    /// </summary>
    public static Dictionary<int, long> Produce(string bootstrap, string topic, IEnumerable<TelemetryEvent> events, Func<TelemetryEvent, int>? partition = null)
    {
        using var producer = new StreamProducer(bootstrap);
        var counts = new Dictionary<int, long>();
        foreach (var e in events)
        {
            producer.Send(topic, new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes(e.Syslog?.Hostname ?? "-"),
                Value = EnvelopeCodec.Encode(e),
                Timestamp = new Timestamp(e.ReceivedAt),
            }, partition?.Invoke(e), r => { lock (counts) counts[r.Partition.Value] = counts.GetValueOrDefault(r.Partition.Value) + 1; });
        }
        producer.Complete();
        return counts;
    }

    /// <summary>Commits offsets for a group that has never had members (the embedded cluster takes such a commit from outside).</summary>
    public static void Commit(string bootstrap, string group, params (string Topic, int Partition, long Offset)[] offsets)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group, EnableAutoCommit = false })
            .SetLogHandler((_, _) => { }).Build();
        consumer.Commit(offsets.Select(o => new TopicPartitionOffset(o.Topic, o.Partition, o.Offset)));
    }

    /// <summary>A group's committed offsets by partition (absent: none).</summary>
    public static Dictionary<int, long> Committed(string bootstrap, string group, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = group })
            .SetLogHandler((_, _) => { }).Build();
        return consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)), TimeSpan.FromSeconds(10))
            .Where(c => c.Offset.Value >= 0).ToDictionary(c => c.Partition.Value, c => c.Offset.Value);
    }

    /// <summary>End offset of each partition.</summary>
    public static Dictionary<int, long> Ends(string bootstrap, string topic, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "ends-" + Guid.NewGuid().ToString("N") })
            .SetLogHandler((_, _) => { }).Build();
        return Enumerable.Range(0, partitions).ToDictionary(p => p, p => consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), TimeSpan.FromSeconds(10)).High.Value);
    }
}
