using System.Runtime.InteropServices;
using System.Text;
using Confluent.Kafka;
using Pipeline.Kafka.Native;

namespace Pipeline.Kafka.Embedded;

/// <summary>
/// An in-memory Kafka-protocol cluster (librdkafka's mock cluster) listening on loopback ports, for local
/// runs and tests. Real Kafka clients (Confluent.Kafka, kcat) talk to it over TCP as to any cluster.
/// It is not Apache Kafka: it cannot create topics through the admin API (use <see cref="CreateTopic"/>),
/// does not look offsets up by timestamp, keeps data only in this process's memory, and keeps little of it:
/// each partition holds the newest <see cref="PartitionHistoryBytes"/> of stored (compressed) batches and at
/// most <see cref="PartitionHistoryBatches"/> batches, and lets older ones go without a word (its low
/// watermark moves up, as with Kafka's retention). Production runs on real Apache Kafka, whose history is its
/// topics' retention.
/// </summary>
public sealed class EmbeddedKafkaCluster : IDisposable
{
    /// <summary>
    /// Bytes of stored batches a partition keeps (librdkafka's <c>mpart->max_size</c>, fixed in the official
    /// build: no setting changes it). A batch is stored as the producer compressed it, so compression and
    /// larger batches hold more events; more partitions hold more in all.
    /// </summary>
    public const long PartitionHistoryBytes = 5 * 1024 * 1024;

    /// <summary>Batches (produce requests' record batches) a partition keeps (<c>mpart->max_cnt</c>, fixed likewise).</summary>
    public const int PartitionHistoryBatches = 100_000;

    /// <summary>
    /// The fetch wait for consumers of this cluster (<c>Consumer:FetchWaitMax</c>). Its brokers hold a fetch that
    /// found nothing for the whole wait, even when records arrive meanwhile (Kafka answers at once), so a consumer
    /// that has just read everything waits that long for the next records: with the 100 ms meant for Kafka, about
    /// 50 ms of every record's freshness. 10 ms costs an idle member a hundred small fetches a second per broker.
    /// </summary>
    public static readonly TimeSpan ConsumerFetchWait = TimeSpan.FromMilliseconds(10);

    /// <summary><see cref="ConsumerFetchWait"/> as the environment setting a worker reads.</summary>
    public static KeyValuePair<string, string> ConsumerFetchWaitSetting =>
        new("Consumer__FetchWaitMax", ConsumerFetchWait.ToString("c", System.Globalization.CultureInfo.InvariantCulture));

    private readonly object _gate = new();
    private IntPtr _handle;
    private IntPtr _cluster;

    private EmbeddedKafkaCluster(IntPtr handle, IntPtr cluster, int brokerCount)
    {
        _handle = handle;
        _cluster = cluster;
        BrokerCount = brokerCount;
        BootstrapServers = Marshal.PtrToStringUTF8(LibRdKafka.MockClusterBootstraps(cluster))
            ?? throw new InvalidOperationException("the mock cluster reported no bootstrap servers");
    }

    /// <summary>Comma-separated <c>host:port</c> list of the brokers.</summary>
    public string BootstrapServers { get; }

    /// <summary>Number of brokers; their ids are 1 to <see cref="BrokerCount"/>.</summary>
    public int BrokerCount { get; }

    /// <summary>Starts a cluster of <paramref name="brokerCount"/> brokers (default 3).</summary>
    public static EmbeddedKafkaCluster Start(int brokerCount = 3)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokerCount, 1);
        // Bind to the librdkafka Confluent.Kafka loaded, so both use one copy of the library.
        LoadedLibrary.Ensure();

        var conf = LibRdKafka.ConfNew();
        var errstr = new byte[512];
        // The handle only hosts the mock cluster's threads; keep its own logging to warnings.
        if (LibRdKafka.ConfSet(conf, "log_level", "4", errstr, (UIntPtr)errstr.Length) != 0)
        {
            LibRdKafka.ConfDestroy(conf);
            throw new InvalidOperationException("rd_kafka_conf_set failed: " + Text(errstr));
        }
        var rk = LibRdKafka.New(LibRdKafka.ProducerType, conf, errstr, (UIntPtr)errstr.Length);
        if (rk == IntPtr.Zero)
        {
            LibRdKafka.ConfDestroy(conf);
            throw new InvalidOperationException("rd_kafka_new failed: " + Text(errstr));
        }
        var cluster = LibRdKafka.MockClusterNew(rk, brokerCount);
        if (cluster == IntPtr.Zero)
        {
            LibRdKafka.Destroy(rk);
            throw new InvalidOperationException("rd_kafka_mock_cluster_new failed");
        }
        return new EmbeddedKafkaCluster(rk, cluster, brokerCount);
    }

    /// <summary>Creates a topic; creating one that exists is an error.</summary>
    public void CreateTopic(string name, int partitions, int replicationFactor = -1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        var replicas = replicationFactor > 0 ? replicationFactor : Math.Min(3, BrokerCount);
        Check(LibRdKafka.MockTopicCreate(Cluster, name, partitions, replicas), $"create topic {name}");
    }

    /// <summary>Takes a broker down: its connections close and it accepts none until <see cref="SetBrokerUp"/>.</summary>
    public void SetBrokerDown(int brokerId) => Check(LibRdKafka.MockBrokerSetDown(Cluster, brokerId), $"set broker {brokerId} down");

    public void SetBrokerUp(int brokerId) => Check(LibRdKafka.MockBrokerSetUp(Cluster, brokerId), $"set broker {brokerId} up");

    /// <summary>Takes every broker down (a whole-cluster outage).</summary>
    public void SetAllBrokersDown()
    {
        for (var id = 1; id <= BrokerCount; id++) SetBrokerDown(id);
    }

    public void SetAllBrokersUp()
    {
        for (var id = 1; id <= BrokerCount; id++) SetBrokerUp(id);
    }

    /// <summary>Adds latency to every response of a broker.</summary>
    public void SetBrokerLatency(int brokerId, TimeSpan roundTrip) =>
        Check(LibRdKafka.MockBrokerSetRtt(Cluster, brokerId, (int)roundTrip.TotalMilliseconds), $"set broker {brokerId} latency");

    /// <summary>Makes the next requests of one API (e.g. <see cref="KafkaApi.Produce"/>) fail with these errors, in order.</summary>
    public void PushRequestErrors(KafkaApi api, params ErrorCode[] errors)
    {
        var codes = errors.Select(e => (int)e).ToArray();
        lock (_gate) LibRdKafka.MockPushRequestErrorsArray(Cluster, (short)api, (UIntPtr)codes.Length, codes);
    }

    /// <summary>
    /// How long a group with no members waits for more to join before its first assignment (Kafka's
    /// <c>group.initial.rebalance.delay.ms</c>). The embedded cluster waits 3 s by default; docker compose runs
    /// Kafka with 0, and short-lived groups (a tail, an offset change) start at once with 0.
    /// </summary>
    public void SetGroupInitialRebalanceDelay(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        lock (_gate) LibRdKafka.MockGroupInitialRebalanceDelayMs(Cluster, (int)delay.TotalMilliseconds);
    }

    /// <summary>
    /// The session timeout and heartbeat interval of groups on the KIP-848 protocol (<c>group.protocol=consumer</c>),
    /// which the broker sets (Kafka's <c>group.consumer.session.timeout.ms</c> and
    /// <c>group.consumer.heartbeat.interval.ms</c>). The embedded cluster starts with 30 s and 3 s.
    /// </summary>
    public void SetConsumerGroupTimeouts(TimeSpan session, TimeSpan heartbeat)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(session, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(heartbeat, TimeSpan.Zero);
        lock (_gate)
        {
            LibRdKafka.MockSetGroupConsumerSessionTimeoutMs(Cluster, (int)session.TotalMilliseconds);
            LibRdKafka.MockSetGroupConsumerHeartbeatIntervalMs(Cluster, (int)heartbeat.TotalMilliseconds);
        }
    }

    public void ClearRequestErrors(KafkaApi api)
    {
        lock (_gate) LibRdKafka.MockClearRequestErrors(Cluster, (short)api);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_cluster != IntPtr.Zero) LibRdKafka.MockClusterDestroy(_cluster);
            if (_handle != IntPtr.Zero) LibRdKafka.Destroy(_handle);
            _cluster = IntPtr.Zero;
            _handle = IntPtr.Zero;
        }
    }

    private IntPtr Cluster => _cluster != IntPtr.Zero ? _cluster : throw new ObjectDisposedException(nameof(EmbeddedKafkaCluster));

    private static void Check(int err, string what)
    {
        if (err != 0) throw new InvalidOperationException($"{what}: {LibRdKafka.ErrorName(err)}");
    }

    private static string Text(byte[] errstr)
    {
        var end = Array.IndexOf(errstr, (byte)0);
        return Encoding.UTF8.GetString(errstr, 0, end < 0 ? errstr.Length : end);
    }
}

/// <summary>Kafka protocol API keys used for fault injection.</summary>
public enum KafkaApi : short
{
    Produce = 0,
    Fetch = 1,
    ListOffsets = 2,
    Metadata = 3,
    OffsetCommit = 8,
    OffsetFetch = 9,
    FindCoordinator = 10,
    JoinGroup = 11,
    Heartbeat = 12,
    LeaveGroup = 13,
    SyncGroup = 14,
    InitProducerId = 22,
}
