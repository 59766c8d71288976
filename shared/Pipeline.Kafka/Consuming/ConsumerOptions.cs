using Confluent.Kafka;

namespace Pipeline.Kafka.Consuming;

/// <summary>How a consumer group member reads and batches (section <c>Consumer</c>).</summary>
public sealed class ConsumerOptions
{
    public const string Section = "Consumer";

    /// <summary>Consumer group id; every executable has its own default (noc_team, sec_team, topk, files).</summary>
    public string Group { get; set; } = "";

    /// <summary>Topics to read, comma-separated. Default <c>syslog,events,metrics</c>.</summary>
    public string Topics { get; set; } = "syslog,events,metrics";

    /// <summary><c>earliest</c> or <c>latest</c>: where a group with no stored position starts. Default earliest.</summary>
    public string From { get; set; } = "earliest";

    /// <summary>
    /// The most records in one batch: a batch is written once it holds this many. Batches are as large as what
    /// waits to be read (see <see cref="BatchLinger"/>), so this bounds a catching-up or busy group's batches.
    /// Default 5,000.
    /// </summary>
    public int BatchSize { get; set; } = 5000;

    /// <summary>…or once its first record is this old. Default 5 s.</summary>
    public TimeSpan BatchMaxWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// …or, when no write is in flight, once no further record has come for this long: a group that keeps up
    /// writes what it has at once instead of waiting for a batch to fill, and one under load gathers what came
    /// while its last write ran. Raise it (up to <see cref="BatchMaxWait"/>) for sinks whose every write costs
    /// much whatever its size; at <see cref="BatchMaxWait"/> or above, batches wait for their size or age only. Default 5 ms.
    /// </summary>
    public TimeSpan BatchLinger { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>First wait after a failed write; doubles each time. Default 0.5 s.</summary>
    public TimeSpan RetryInitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between write attempts. Default 30 s.</summary>
    public TimeSpan RetryMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On revoke and on shutdown, how long to try to finish the batch in hand. Default 4 s; must be below the session timeout.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>
    /// Kafka group session timeout: how soon a member that stopped without leaving (killed, hung, cut off)
    /// is declared dead and its partitions move — and, with static membership, how long a restarted member
    /// may take to come back and take its partitions again without a rebalance. Default 6 s, Kafka's lowest
    /// by default (<c>group.min.session.timeout.ms</c>). Classic protocol only: with
    /// <see cref="GroupProtocol"/> <c>consumer</c> the broker sets it.
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>
    /// How often the member tells the coordinator it is alive; at most a third of <see cref="SessionTimeout"/>,
    /// so two heartbeats can be lost before the session runs out. Default zero: a third of the session timeout
    /// (2 s). Classic protocol only.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; }

    /// <summary>
    /// Static membership (Kafka's <c>group.instance.id</c>): the member's stable identity in its group, so a
    /// worker restarted after a crash takes its own partitions back at once instead of waiting for its old
    /// session to expire and a rebalance. Default empty: derived as <c>&lt;host&gt;.&lt;worker&gt;.&lt;HTTP
    /// port&gt;</c> (e.g. <c>db01.pipeline-noc.9101</c>), stable across restarts of the same worker on the same
    /// host and unique on it, since two workers cannot serve one port; give one explicitly where the host name
    /// changes with each start (containers: see the docs). Letters, digits, <c>.</c>, <c>_</c>, <c>-</c>; at
    /// most 249 characters. Unique per group: a second worker on this host claiming the same one is refused.
    /// </summary>
    public string InstanceId { get; set; } = "";

    /// <summary>Whether the member has a static identity (<see cref="InstanceId"/>). Default true.</summary>
    public bool StaticMembership { get; set; } = true;

    /// <summary>
    /// The group protocol: <c>classic</c> (JoinGroup/SyncGroup, with the cooperative-sticky assignor so a
    /// rebalance only stops the partitions that move) or <c>consumer</c> (KIP-848, Kafka 4: the broker assigns
    /// incrementally and sets the session timeout and heartbeat interval). Default classic: see the docs for why.
    /// </summary>
    public string GroupProtocol { get; set; } = "classic";

    /// <summary>
    /// How long a broker may hold a fetch that found nothing (librdkafka's <c>fetch.wait.max.ms</c>). Kafka answers
    /// as soon as records arrive, so against Kafka this only sets how often an idle member asks: ten times a second
    /// per broker. The embedded broker of local runs answers an empty fetch only when the wait is over, so there
    /// the wait is paid by the next records: <c>ops local</c> and the benchmarks set
    /// <see cref="Embedded.EmbeddedKafkaCluster.ConsumerFetchWait"/> for the workers they start. Default 100 ms.
    /// </summary>
    public TimeSpan FetchWaitMax { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Bound on records fetched ahead per partition, in KiB (memory stays bounded). Default 8 MiB.</summary>
    public int PrefetchKbytes { get; set; } = 8 * 1024;

    /// <summary>
    /// Optional end of a bounded run (a replay or backfill): <c>topic:partition=offset</c>, comma-separated.
    /// Each named partition is read up to, not including, its offset; partitions not named are not read.
    /// Once every named partition is reached and written, the runtime leaves the group and the process
    /// exits. Meant for one process per group. Default empty: run until stopped.
    /// </summary>
    public string StopAt { get; set; } = "";

    /// <summary>Most records read per second, so a replay does not crowd out the live groups. Default 0: no limit.</summary>
    public double MaxRate { get; set; }

    /// <summary><see cref="StopAt"/> parsed: where each named partition ends (empty when the run is unbounded).</summary>
    public IReadOnlyDictionary<PartitionKey, long> StopOffsets => ParseStopAt(StopAt);

    public IReadOnlyList<string> TopicList => Topics.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public AutoOffsetReset AutoOffsetReset => From.ToLowerInvariant() switch
    {
        "earliest" => AutoOffsetReset.Earliest,
        "latest" => AutoOffsetReset.Latest,
        _ => throw new ArgumentException($"--from must be earliest or latest, not '{From}'"),
    };

    /// <summary>Checks every rule at start-up, naming what is wrong.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(Group)) throw new ArgumentException("a consumer group (--group) is required");
        if (TopicList.Count == 0) throw new ArgumentException("at least one topic (--topics) is required");
        _ = AutoOffsetReset;
        if (BatchSize is < 1 or > 1_000_000) throw new ArgumentException("--batch-size must be between 1 and 1,000,000");
        if (BatchMaxWait <= TimeSpan.Zero) throw new ArgumentException("--batch-wait must be positive");
        if (FetchWaitMax < TimeSpan.Zero || FetchWaitMax > TimeSpan.FromMinutes(5)) throw new ArgumentException("Consumer:FetchWaitMax must be between 0 and 5 minutes");
        if (BatchLinger < TimeSpan.Zero || BatchLinger > TimeSpan.FromDays(1)) throw new ArgumentException("--batch-linger must be between 0 and a day");
        if (RetryInitialBackoff <= TimeSpan.Zero || RetryMaxBackoff < RetryInitialBackoff)
            throw new ArgumentException("RetryInitialBackoff must be positive and at most RetryMaxBackoff");
        // As Vector does: a drain that outlives the session would hand partitions over while we still write them.
        if (DrainTimeout >= SessionTimeout) throw new ArgumentException("DrainTimeout must be shorter than SessionTimeout");
        GroupMembership.Validate(this);
        if (StopOffsets.Keys.FirstOrDefault(k => !TopicList.Contains(k.Topic)) is { Topic: not null } stray)
            throw new ArgumentException($"--stop-at names {stray}, which is not in --topics");
        if (MaxRate < 0 || double.IsNaN(MaxRate) || double.IsInfinity(MaxRate)) throw new ArgumentException("--max-rate must be 0 (no limit) or a positive number of records per second");
    }

    /// <summary>Parses <c>topic:partition=offset,…</c>; throws <see cref="ArgumentException"/> naming the bad entry.</summary>
    public static IReadOnlyDictionary<PartitionKey, long> ParseStopAt(string text)
    {
        var stops = new Dictionary<PartitionKey, long>();
        foreach (var entry in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = entry.LastIndexOf(':');
            var equals = entry.IndexOf('=', StringComparison.Ordinal);
            if (colon <= 0 || equals < colon + 2
                || !int.TryParse(entry.AsSpan(colon + 1, equals - colon - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var partition)
                || !long.TryParse(entry.AsSpan(equals + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var offset))
                throw new ArgumentException($"--stop-at entry '{entry}' is not topic:partition=offset");
            if (!stops.TryAdd(new PartitionKey(entry[..colon], partition), offset))
                throw new ArgumentException($"--stop-at names {entry[..colon]}:{partition} twice");
        }
        return stops;
    }

    public ConsumerConfig ToConfig(KafkaOptions kafka, string clientId)
    {
        var config = kafka.ToConfig<ConsumerConfig>();
        config.GroupId = Group;
        config.ClientId ??= clientId;
        config.AutoOffsetReset = AutoOffsetReset;
        // Code, not configuration, owns commit semantics.
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        GroupMembership.Configure(this, config);
        config.QueuedMaxMessagesKbytes = PrefetchKbytes;
        // With a bounded prefetch queue, librdkafka's default 1 s pause after the queue filled caps a member
        // at the rate one queue drains per second (~20k records/s here); refetch as soon as there is room.
        config.FetchQueueBackoffMs ??= 20;
        config.FetchMaxBytes ??= 16 * 1024 * 1024;
        // A librdkafka property given under Kafka:Properties still wins.
        config.FetchWaitMaxMs ??= (int)FetchWaitMax.TotalMilliseconds;
        config.EnablePartitionEof = false;
        // Sinks see no Kafka headers: not copying them into every ConsumeResult saves the poll thread work.
        if (config.Get("dotnet.consumer.consume.result.fields") is null) config.ConsumeResultFields = "topic,timestamp";
        return config;
    }
}
