using System.Collections.Concurrent;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;
using Pipeline.Core.Hosting;
using Pipeline.Testing;
using Pipeline.IntegrationTests.Fixtures;
using Pipeline.Kafka;
using Pipeline.Kafka.Consuming;
using Pipeline.Kafka.Embedded;
using Xunit.Abstractions;

namespace Pipeline.IntegrationTests.Noc;

/// <summary>
/// The consumer runtime in this process against the embedded Kafka cluster, with a sink the test can
/// break and mend at will: the rebalance paths that are hard to reach through a real database.
/// </summary>
public sealed class ConsumerRuntimeTests(ITestOutputHelper output) : IDisposable
{
    private const int Partitions = 6;
    private readonly EmbeddedKafkaCluster _kafka = EmbeddedKafkaCluster.Start(3);
    private readonly string _topic = "runtime-" + Guid.NewGuid().ToString("N")[..8];
    private readonly string _group = "runtime-" + Guid.NewGuid().ToString("N")[..8];
    private int _produced;
    private bool _created;

    public void Dispose() => _kafka.Dispose();

    private Task<Member> StartMemberAsync(string name, IBatchSink sink, Action<ConsumerOptions>? configure = null, Dictionary<string, string>? kafka = null)
    {
        if (!_created) _kafka.CreateTopic(_topic, Partitions);
        _created = true;
        return Member.StartAsync(_kafka, _group, _topic, sink, new TestOutputLogger<ConsumerRuntime>(output, name), configure, kafka);
    }

    [EmbeddedKafkaFact("runs on an embedded cluster of its own")]
    public async Task AGroupThatKeepsUpWritesWhatArrivedWithoutWaitingForItsBatchToFill()
    {
        var sink = new SwitchableSink();
        // A batch that would take a minute to be due by size or age.
        await using var member = await StartMemberAsync("a", sink, o => { o.BatchSize = 100_000; o.BatchMaxWait = TimeSpan.FromSeconds(60); });
        await Eventually.True(() => member.Gauge("consumer_partitions_assigned") == Partitions, TimeSpan.FromSeconds(30), "partitions assigned");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Produce(10);
        await Eventually.True(() => sink.Distinct == 10, TimeSpan.FromSeconds(20), "the 10 records written long before the batch is full or old");
        output.WriteLine($"written {clock.ElapsedMilliseconds} ms after they were produced");
        Assert.Equal(10, member.Metrics.Sum("consumer_freshness_seconds"));
    }

    [EmbeddedKafkaFact("runs on an embedded cluster of its own")]
    public async Task AGroupThatIsBehindWritesLargeBatchesUpToBatchSize()
    {
        _kafka.CreateTopic(_topic, Partitions);
        _created = true;
        Produce(6000);
        var sink = new SwitchableSink();
        await using var member = await StartMemberAsync("a", sink, o => o.BatchSize = 1000);
        await Eventually.True(() => sink.Distinct == 6000, TimeSpan.FromSeconds(60), "the backlog written");
        // What waited to be read went in full batches, not record by record.
        Assert.All(sink.Batches, b => Assert.InRange(b, 1, 1000));
        Assert.True(sink.Batches.Count <= 30, $"{sink.Batches.Count} batches for 6,000 waiting records");
    }

    [EmbeddedKafkaFact("injects errors into the requests of an embedded cluster of its own")]
    public async Task PartitionsPausedWhileTheSinkFailedAreResumedWhenTheyAreAssignedAgainAfterARebalance()
    {
        var sinkA = new SwitchableSink();
        await using var a = await StartMemberAsync("a", sinkA);
        Produce(600);
        await Eventually.True(() => sinkA.Distinct == 600, TimeSpan.FromSeconds(30), "first records written");

        // The sink fails: the member pauses every partition and retries with backoff.
        sinkA.Failing = true;
        Produce(600);
        await Eventually.True(() => a.Gauge("consumer_partitions_paused") == 1, TimeSpan.FromSeconds(30), "partitions paused");

        // A second member joins: the first abandons its batch on revoke and gets half the partitions back.
        var sinkB = new SwitchableSink();
        await using var b = await StartMemberAsync("b", sinkB);
        await Eventually.True(() => a.Gauge("consumer_partitions_assigned") > 0 && b.Gauge("consumer_partitions_assigned") > 0
            && a.Gauge("consumer_partitions_assigned") + b.Gauge("consumer_partitions_assigned") == Partitions, TimeSpan.FromSeconds(60), "partitions split");
        sinkA.Failing = false;
        Produce(600);

        // Every record is written by one member or the other: none of the first member's partitions stalls.
        await Eventually.True(() => SinkUnion(sinkA, sinkB) == _produced, TimeSpan.FromSeconds(60), "every record written");
        Assert.True(sinkA.Distinct > 600 && sinkB.Distinct > 0);
        Assert.True(a.Metrics.Sum("consumer_records_abandoned_total") > 0);
    }

    [EmbeddedKafkaFact("injects errors into the requests of an embedded cluster of its own")]
    public async Task WithIncrementalRebalancingABatchAbandonedOnRevokeIsReadAgainForThePartitionsThatStay()
    {
        static void Cooperative(ConsumerOptions o) => o.DrainTimeout = TimeSpan.FromSeconds(2);
        var kafka = new Dictionary<string, string> { ["partition.assignment.strategy"] = "cooperative-sticky" };
        var sinkA = new SwitchableSink { Failing = true };
        await using var a = await StartMemberAsync("a", sinkA, Cooperative, kafka);
        // Everything produced is in the first member's hand and cannot be written.
        Produce(600);
        await Eventually.True(() => a.Gauge("consumer_partitions_paused") == 1 && a.Gauge("consumer_batch_records") > 0, TimeSpan.FromSeconds(30), "batch in hand, paused");

        // A second member takes some partitions away: the batch is abandoned as a whole, including the
        // records of the partitions the first member keeps, which it must read again.
        var sinkB = new SwitchableSink();
        await using var b = await StartMemberAsync("b", sinkB, Cooperative, kafka);
        await Eventually.True(() => a.Gauge("consumer_partitions_assigned") > 0 && b.Gauge("consumer_partitions_assigned") > 0
            && a.Gauge("consumer_partitions_assigned") + b.Gauge("consumer_partitions_assigned") == Partitions, TimeSpan.FromSeconds(60), "partitions split");
        Assert.True(a.Metrics.Sum("consumer_records_abandoned_total") > 0);
        sinkA.Failing = false;
        Produce(600);

        await Eventually.True(() => SinkUnion(sinkA, sinkB) == _produced, TimeSpan.FromSeconds(60), "every record written");
        Assert.True(sinkA.Distinct > 0 && sinkB.Distinct > 0);
    }

    [EmbeddedKafkaFact("injects errors into the requests of an embedded cluster of its own")]
    public async Task ABatchWhosePartitionsAreLostIsDiscardedUnwrittenAndReadAgainOnceTheMemberRejoins()
    {
        var sink = new SwitchableSink();
        await using var a = await StartMemberAsync("a", sink, o =>
        {
            o.BatchSize = 1_000_000;
            o.BatchMaxWait = TimeSpan.FromSeconds(5);
            // Held in hand until it is 5 s old, not written as soon as nothing more comes.
            o.BatchLinger = o.BatchMaxWait;
        });
        await Eventually.True(() => a.Gauge("consumer_partitions_assigned") == Partitions, TimeSpan.FromSeconds(30), "partitions assigned");
        Produce(600);
        await Eventually.True(() => a.Gauge("consumer_batch_records") == 600, TimeSpan.FromSeconds(5), "batch in hand");

        // The coordinator says the member is unknown: its assignment is lost, not revoked. Another member may
        // own those partitions already, so nothing of them may be written or committed now.
        _kafka.PushRequestErrors(KafkaApi.Heartbeat, ErrorCode.UnknownMemberId);
        await Eventually.True(() => a.Metrics.Sum("consumer_rebalances_total", ("kind", "lost")) >= 1, TimeSpan.FromSeconds(10), "assignment lost");
        Assert.Equal(0, sink.Distinct);
        Assert.Equal(600, a.Metrics.Sum("consumer_records_abandoned_total", ("reason", "lost")));

        // Rejoined, it reads them again from the committed position and writes each once.
        await Eventually.True(() => sink.Distinct == 600, TimeSpan.FromSeconds(60), "records written after rejoining");
        Assert.All(sink.Written.Values, n => Assert.Equal(1, n));
    }

    private static int SinkUnion(SwitchableSink a, SwitchableSink b) => a.Written.Keys.Union(b.Written.Keys).Count();

    private void Produce(int count)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers, EnableIdempotence = true, Acks = Acks.All })
            .SetLogHandler((_, _) => { }).Build();
        for (var i = 0; i < count; i++)
        {
            var n = _produced + i;
            producer.Produce(new TopicPartition(_topic, n % Partitions), new Message<byte[]?, byte[]> { Value = System.Text.Encoding.UTF8.GetBytes("{\"n\":" + n + "}") });
        }
        if (producer.Flush(TimeSpan.FromSeconds(30)) > 0) throw new InvalidOperationException("not all produced");
        _produced += count;
    }

    /// <summary>A sink that records what it wrote (at least once, committed to Kafka) and fails while told to.</summary>
    private sealed class SwitchableSink : IBatchSink
    {
        public ConcurrentDictionary<(int Partition, long Offset), int> Written { get; } = new();
        public ConcurrentQueue<int> Batches { get; } = new();
        public volatile bool Failing;

        public int Distinct => Written.Count;

        public OffsetStorage OffsetStorage => OffsetStorage.Kafka;

        public Task<IReadOnlyDictionary<PartitionKey, long>> OnAssignedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyDictionary<PartitionKey, long>>(new Dictionary<PartitionKey, long>());

        public Task WriteAsync(SinkBatch batch, CancellationToken cancellationToken)
        {
            if (Failing) throw new InvalidOperationException("the sink is down");
            foreach (var r in batch.Records) Written.AddOrUpdate((r.Partition, r.Offset), 1, (_, n) => n + 1);
            if (batch.Records.Count > 0) Batches.Enqueue(batch.Records.Count);
            return Task.CompletedTask;
        }

        public Task OnRevokedAsync(IReadOnlyCollection<PartitionKey> partitions, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>One group member: a runtime with its own metrics, started and stopped as the host would.</summary>
    private sealed class Member : IAsyncDisposable
    {
        private readonly ConsumerRuntime _runtime;
        private readonly InProcessMetrics _registry;

        private Member(ConsumerRuntime runtime, InProcessMetrics registry)
        {
            _runtime = runtime;
            _registry = registry;
        }

        public InProcessMetrics Metrics => _registry;

        public double Gauge(string name) => Metrics.Sum(name);

        public static async Task<Member> StartAsync(EmbeddedKafkaCluster kafka, string group, string topic, IBatchSink sink, ILogger<ConsumerRuntime> log,
            Action<ConsumerOptions>? configure = null, Dictionary<string, string>? kafkaProperties = null)
        {
            var options = new ConsumerOptions
            {
                Group = group,
                Topics = topic,
                BatchSize = 100,
                BatchMaxWait = TimeSpan.FromMilliseconds(200),
                RetryInitialBackoff = TimeSpan.FromMilliseconds(200),
                RetryMaxBackoff = TimeSpan.FromSeconds(1),
                SessionTimeout = TimeSpan.FromSeconds(6),
                DrainTimeout = TimeSpan.FromSeconds(2),
            };
            configure?.Invoke(options);
            var registry = new InProcessMetrics();
            var runtime = new ConsumerRuntime(options, new KafkaOptions { BootstrapServers = kafka.BootstrapServers, Properties = kafkaProperties ?? [] }, sink, registry, new HealthState(),
                TimeProvider.System, log);
            await runtime.StartAsync(CancellationToken.None);
            return new Member(runtime, registry);
        }

        public async ValueTask DisposeAsync()
        {
            await _runtime.StopAsync(CancellationToken.None);
            _runtime.Dispose();
            _registry.Dispose();
        }
    }
}
