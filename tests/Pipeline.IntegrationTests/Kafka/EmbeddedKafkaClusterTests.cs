using Confluent.Kafka;
using Pipeline.Kafka.Embedded;

using Pipeline.IntegrationTests.Fixtures;

namespace Pipeline.IntegrationTests.Kafka;

public sealed class EmbeddedKafkaClusterTests
{
    [EmbeddedKafkaFact("tests the embedded cluster itself")]
    public async Task AProducedMessageIsConsumedBackFromAThreeBrokerCluster()
    {
        using var cluster = EmbeddedKafkaCluster.Start(3);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 6);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, EnableIdempotence = true }).Build())
        {
            for (var i = 0; i < 100; i++)
                await producer.ProduceAsync(topic, new Message<string, string> { Key = "k" + i, Value = "v" + i });
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            GroupId = "g-" + Guid.NewGuid().ToString("N"),
            AutoOffsetReset = AutoOffsetReset.Earliest,
        }).Build();
        consumer.Subscribe(topic);
        var seen = new HashSet<string>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (seen.Count < 100 && DateTime.UtcNow < deadline)
        {
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result?.Message is { } m) seen.Add(m.Value);
        }
        consumer.Close();
        Assert.Equal(100, seen.Count);
    }

    [EmbeddedKafkaFact("tests the embedded cluster itself")]
    public async Task ProducingWaitsOutABrokerOutageAndSucceedsWhenTheBrokersReturn()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 1);
        var allDown = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig
        {
            BootstrapServers = cluster.BootstrapServers,
            EnableIdempotence = true,
            MessageTimeoutMs = 60_000,
        }).SetErrorHandler((_, error) =>
        {
            if (error.Code == ErrorCode.Local_AllBrokersDown) allDown.TrySetResult();
        }).Build();
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = "before" });

        cluster.SetAllBrokersDown();
        var during = producer.ProduceAsync(topic, new Message<Null, string> { Value = "during" });
        // Not a fixed wait: until the client itself has found every broker gone.
        await allDown.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(during.IsCompleted, "a produce must not complete while every broker is down");
        cluster.SetAllBrokersUp();

        var result = await during.WaitAsync(TimeSpan.FromSeconds(45));
        Assert.Equal(PersistenceStatus.Persisted, result.Status);
        Assert.Equal(1, result.Offset.Value);
    }

    [EmbeddedKafkaFact("tests the embedded cluster itself")]
    public async Task InjectedProduceErrorsAreRetriedByTheClient()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 1);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, EnableIdempotence = true }).Build();
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = "warm-up" });

        cluster.PushRequestErrors(KafkaApi.Produce, ErrorCode.NotEnoughReplicas, ErrorCode.NotEnoughReplicas);
        var result = await producer.ProduceAsync(topic, new Message<Null, string> { Value = "retried" });
        Assert.Equal(1, result.Offset.Value);
    }

    [EmbeddedKafkaFact("tests the embedded cluster itself")]
    public async Task AddedBrokerLatencyDelaysEveryResponse()
    {
        using var cluster = EmbeddedKafkaCluster.Start(1);
        var topic = "t-" + Guid.NewGuid().ToString("N");
        cluster.CreateTopic(topic, partitions: 1);
        using var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.BootstrapServers, LingerMs = 0 }).Build();
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = "warm-up" });

        cluster.SetBrokerLatency(1, TimeSpan.FromMilliseconds(800));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await producer.ProduceAsync(topic, new Message<Null, string> { Value = "slowed" });
        // Only a lower bound: the injected round trip cannot be skipped, however fast the machine.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(700), $"produce took {clock.Elapsed}");
    }
}
