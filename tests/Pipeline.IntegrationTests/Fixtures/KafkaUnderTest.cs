using Confluent.Kafka;
using Pipeline.Kafka.Embedded;
using Pipeline.Ops.Kafka;
using Pipeline.Ops.Topics;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// One test's Kafka, on the backend of the run (<see cref="KafkaBackend"/>). On the embedded backend the test
/// has a cluster of its own, so the pipeline's own topic names are its own as they are; on a shared Kafka each
/// test works in names of its own (<see cref="Topic"/>: <c>syslog-1a2b3c4d</c>), so tests never read each other's
/// records, and topics are created through the admin API as on any Kafka.
/// </summary>
internal sealed class KafkaUnderTest : IDisposable
{
    private readonly EmbeddedKafkaCluster? _embedded;
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];

    private KafkaUnderTest(EmbeddedKafkaCluster? embedded, string bootstrap)
    {
        _embedded = embedded;
        BootstrapServers = bootstrap;
    }

    /// <summary>A cluster of <paramref name="brokers"/> for this test (embedded), or the run's shared Kafka.</summary>
    public static KafkaUnderTest Start(int brokers = 1)
    {
        if (KafkaBackend.Kind != KafkaBackendKind.Embedded) return new KafkaUnderTest(null, KafkaBackend.Bootstrap);
        var cluster = EmbeddedKafkaCluster.Start(brokers);
        return new KafkaUnderTest(cluster, cluster.BootstrapServers);
    }

    public string BootstrapServers { get; }

    public bool IsEmbedded => _embedded is not null;

    /// <summary>The embedded cluster, for fault injection; a test using it is an <see cref="EmbeddedKafkaFactAttribute"/>.</summary>
    public EmbeddedKafkaCluster Embedded => _embedded ??
        throw new InvalidOperationException($"this test needs the embedded cluster's fault injection, but {KafkaBackend.Variable} chose {KafkaBackend.Description}");

    /// <summary>This test's name for a topic the pipeline calls <paramref name="name"/>.</summary>
    public string Topic(string name) => IsEmbedded ? name : $"{name}-{_suffix}";

    /// <summary>This test's name for a consumer group the pipeline calls <paramref name="name"/>.</summary>
    public string Group(string name) => Topic(name);

    /// <summary>
    /// Creates a topic and returns how many partitions it has. On a shared Kafka through the admin API (the
    /// pipeline's own <c>topics apply</c> code); a broker that has no admin API (the embedded cluster run apart,
    /// behind host:port) creates it on first use with its own partition count, which is then what is returned.
    /// </summary>
    public int CreateTopic(string name, int partitions, int replicationFactor = -1)
    {
        if (_embedded is not null)
        {
            _embedded.CreateTopic(name, partitions, replicationFactor);
            return partitions;
        }
        var kafka = KafkaConnection.To(BootstrapServers);
        var brokers = Brokers();
        var spec = new TopicSpec { Name = name, Partitions = partitions, ReplicationFactor = (short)(replicationFactor > 0 ? replicationFactor : Math.Min(3, brokers)) };
        using (var admin = kafka.Admin())
        {
            if (AdminSupport.Problem(admin) is null)
            {
                new AdminTopicCreator(kafka).Create([spec]);
                return WaitForTopic(name);
            }
        }
        // Auto-creation: a producer's metadata request for the topic makes the broker create it.
        using var producer = new ProducerBuilder<Null, Null>(new ProducerConfig { BootstrapServers = BootstrapServers, AllowAutoCreateTopics = true })
            .SetLogHandler((_, _) => { }).Build();
        using var metadata = new DependentAdminClientBuilder(producer.Handle).Build();
        _ = metadata.GetMetadata(name, TimeSpan.FromSeconds(10));
        return WaitForTopic(name);
    }

    /// <summary>
    /// Whether the broker looks offsets up by time (OffsetsForTimes). Apache Kafka does; the embedded cluster does
    /// not, nor has it the admin API, by which it is told apart here when it runs apart, behind host:port.
    /// </summary>
    public bool LooksUpOffsetsByTime
    {
        get
        {
            if (IsEmbedded) return false;
            using var admin = KafkaConnection.To(BootstrapServers).Admin();
            return AdminSupport.Problem(admin) is null;
        }
    }

    /// <summary>Partitions of a topic, from the broker's metadata.</summary>
    public int Partitions(string topic) => TopicReader.Partitions(BootstrapServers, topic);

    // Fault injection, embedded only (see Embedded).
    public void SetAllBrokersDown() => Embedded.SetAllBrokersDown();
    public void SetAllBrokersUp() => Embedded.SetAllBrokersUp();
    public void SetBrokerLatency(int brokerId, TimeSpan roundTrip) => Embedded.SetBrokerLatency(brokerId, roundTrip);

    /// <summary>
    /// A new group is assigned after this delay (Kafka's group.initial.rebalance.delay.ms). Set on the embedded
    /// cluster; a shared Kafka keeps its own setting (docker compose and <c>embedded-kafka</c> run with 0).
    /// </summary>
    public void SetGroupInitialRebalanceDelay(TimeSpan delay) => _embedded?.SetGroupInitialRebalanceDelay(delay);

    public void Dispose() => _embedded?.Dispose();

    private int Brokers()
    {
        using var admin = KafkaConnection.To(BootstrapServers).Admin();
        return admin.GetMetadata(TimeSpan.FromSeconds(10)).Brokers.Count;
    }

    /// <summary>A topic just created is known to every broker shortly after: wait until metadata shows all its partitions led.</summary>
    private int WaitForTopic(string name)
    {
        using var admin = KafkaConnection.To(BootstrapServers).Admin();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var topic = admin.GetMetadata(name, TimeSpan.FromSeconds(10)).Topics.Single();
            if (!topic.Error.IsError && topic.Partitions.Count > 0 && topic.Partitions.All(p => p.Leader >= 0)) return topic.Partitions.Count;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"topic {name} was not ready within 30 s ({topic.Error.Reason})");
            Thread.Sleep(100);
        }
    }
}
