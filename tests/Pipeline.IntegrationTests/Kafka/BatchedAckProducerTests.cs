using System.Collections.Concurrent;
using System.Text;
using Confluent.Kafka;
using Pipeline.Kafka.Embedded;
using Pipeline.Kafka.Producing;

using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Kafka;

public sealed class BatchedAckProducerTests
{
    private static readonly KeyValuePair<string, byte[]>[] Headers = [new("schema", "1"u8.ToArray()), new("content-type", "application/json"u8.ToArray())];

    [EmbeddedKafkaFact("runs the binding on an embedded cluster of its own, whose brokers it takes down")]
    public void EveryMessageIsReportedOnceWithItsOpaqueAndArrivesWithKeyValueAndHeaders()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 4);
        const int count = 20_000;
        var reports = new ConcurrentDictionary<long, ErrorCode>();
        var duplicates = 0;
        using (var producer = new BatchedAckProducer(Config(cluster), Headers,
            batch =>
            {
                foreach (var d in batch)
                    if (!reports.TryAdd(d.Opaque, d.Error)) Interlocked.Increment(ref duplicates);
            },
            _ => { }))
        {
            for (long i = 0; i < count; i++)
            {
                var key = Encoding.UTF8.GetBytes("host-" + (i % 7));
                var value = Encoding.UTF8.GetBytes("{\"n\":" + i + "}");
                Assert.Equal(ProduceStatus.Queued, producer.TryProduce(topic, key, hasKey: i % 2 == 0, value, opaque: 1_000_000_000_000 + i, out _));
            }
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(60)));
            Assert.True(SpinWait.SpinUntil(() => reports.Count == count, TimeSpan.FromSeconds(10)), $"{reports.Count} of {count} reported");
        }
        Assert.Equal(0, duplicates);
        Assert.All(reports, r => Assert.Equal(ErrorCode.NoError, r.Value));
        Assert.Equal(Enumerable.Range(0, count).Select(i => 1_000_000_000_000L + i), reports.Keys.Order());

        var seen = ConsumeAll(cluster, topic, count);
        Assert.Equal(count, seen.Count);
        for (var i = 0; i < count; i += 997)
        {
            var m = seen[i];
            Assert.Equal(i % 2 == 0 ? "host-" + (i % 7) : null, m.Key is null ? null : Encoding.UTF8.GetString(m.Key));
            Assert.Equal("1", Encoding.UTF8.GetString(m.Headers.GetLastBytes("schema")));
            Assert.Equal("application/json", Encoding.UTF8.GetString(m.Headers.GetLastBytes("content-type")));
        }
    }

    [EmbeddedKafkaFact("runs the binding on an embedded cluster of its own")]
    public void AGivenTimestampIsTheRecordsTimestampInKafka()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 1);
        var stamped = DateTimeOffset.UtcNow.AddMinutes(-3).ToUnixTimeMilliseconds();
        long before, after;
        using (var producer = new BatchedAckProducer(Config(cluster), Headers, _ => { }, _ => { }))
        {
            Assert.Equal(ProduceStatus.Queued, producer.TryProduce(topic, default, false, "{\"n\":0}"u8, 1, out _, timestampMs: stamped));
            // Without one, the time of the call.
            before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.Equal(ProduceStatus.Queued, producer.TryProduce(topic, default, false, "{\"n\":1}"u8, 2, out _));
            after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        var seen = ConsumeAll(cluster, topic, 2);
        Assert.Equal(TimestampType.CreateTime, seen[0].Timestamp.Type);
        Assert.Equal(stamped, seen[0].Timestamp.UnixTimestampMs);
        Assert.InRange(seen[1].Timestamp.UnixTimestampMs, before, after);
    }

    [EmbeddedKafkaFact("runs the binding on an embedded cluster of its own, whose brokers it takes down")]
    public void PurgingWhileTheBrokersAreDownReportsEveryMessageAsPurgedWithItsKeyValueAndTopic()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 1);
        var reports = new ConcurrentDictionary<long, ErrorCode>();
        var returned = new ConcurrentDictionary<long, (string Topic, string? Key, string Value)>();
        var config = Config(cluster);
        config.MessageTimeoutMs = 0;
        using var producer = new BatchedAckProducer(config, Headers, batch =>
        {
            foreach (var d in batch)
            {
                // The message's bytes are readable only inside the callback: copied out here.
                returned[d.Opaque] = (d.Topic, d.HasKey ? Encoding.UTF8.GetString(d.Key) : null, Encoding.UTF8.GetString(d.Value));
                reports[d.Opaque] = d.Error;
            }
        }, _ => { });
        Assert.Equal(ProduceStatus.Queued, producer.TryProduce(topic, default, false, "warm-up"u8, -1, out _));
        Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));

        cluster.SetAllBrokersDown();
        for (var i = 0; i < 500; i++)
            Assert.Equal(ProduceStatus.Queued, producer.TryProduce(topic, Encoding.UTF8.GetBytes("k" + i), i % 3 != 0, Encoding.UTF8.GetBytes("v" + i), i, out _));
        Assert.Equal(500, producer.Flush(TimeSpan.FromSeconds(1)));

        producer.PurgeAll();
        Assert.True(SpinWait.SpinUntil(() => reports.Count == 501, TimeSpan.FromSeconds(10)), $"{reports.Count} of 501 reported");
        Assert.Equal(ErrorCode.NoError, reports[-1]);
        Assert.All(Enumerable.Range(0, 500), i =>
        {
            Assert.Contains(reports[i], new[] { ErrorCode.Local_PurgeQueue, ErrorCode.Local_PurgeInflight });
            Assert.Equal((topic, i % 3 != 0 ? "k" + i : null, "v" + i), returned[i]);
        });
        Assert.Equal(0, producer.Outstanding);
    }

    [Fact]
    public void AnUnknownSettingIsRefusedWithItsName()
    {
        var config = new ProducerConfig { BootstrapServers = "127.0.0.1:1" };
        config.Set("no.such.setting", "1");
        var error = Assert.Throws<ArgumentException>(() => new BatchedAckProducer(config, Headers, _ => { }, _ => { }));
        Assert.Contains("no.such.setting", error.Message);
    }

    private static ProducerConfig Config(EmbeddedKafkaCluster cluster) => new()
    {
        BootstrapServers = cluster.BootstrapServers,
        EnableIdempotence = true,
        Acks = Acks.All,
        LingerMs = 5,
    };

    private static List<Message<byte[], byte[]>> ConsumeAll(EmbeddedKafkaCluster cluster, string topic, int count)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "g-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var byNumber = new Dictionary<int, Message<byte[], byte[]>>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (byNumber.Count < count && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result?.Message is not { } m) continue;
            var text = Encoding.UTF8.GetString(m.Value);
            byNumber[int.Parse(text.AsSpan(5, text.Length - 6))] = m;
        }
        consumer.Close();
        return byNumber.OrderBy(p => p.Key).Select(p => p.Value).ToList();
    }
}
