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

    /// <summary>Write a batch once it holds this many records. Default 200 (the seed's bulk writer).</summary>
    public int BatchSize { get; set; } = 200;

    /// <summary>…or once its first record is this old. Default 5 s.</summary>
    public TimeSpan BatchMaxWait { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait after a failed write; doubles each time. Default 0.5 s.</summary>
    public TimeSpan RetryInitialBackoff { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Longest wait between write attempts. Default 30 s.</summary>
    public TimeSpan RetryMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>On revoke and on shutdown, how long to try to finish the batch in hand. Default 10 s; must be below the session timeout.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Kafka group session timeout: how soon a dead member's partitions move. Default 15 s.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Bound on records fetched ahead per partition, in KiB (memory stays bounded). Default 8 MiB.</summary>
    public int PrefetchKbytes { get; set; } = 8 * 1024;

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
        if (RetryInitialBackoff <= TimeSpan.Zero || RetryMaxBackoff < RetryInitialBackoff)
            throw new ArgumentException("RetryInitialBackoff must be positive and at most RetryMaxBackoff");
        // As Vector does: a drain that outlives the session would hand partitions over while we still write them.
        if (DrainTimeout >= SessionTimeout) throw new ArgumentException("DrainTimeout must be shorter than SessionTimeout");
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
        config.SessionTimeoutMs = (int)SessionTimeout.TotalMilliseconds;
        config.HeartbeatIntervalMs = Math.Max(500, (int)SessionTimeout.TotalMilliseconds / 5);
        config.QueuedMaxMessagesKbytes = PrefetchKbytes;
        // With a bounded prefetch queue, librdkafka's default 1 s pause after the queue filled caps a member
        // at the rate one queue drains per second (~20k records/s here); refetch as soon as there is room.
        config.FetchQueueBackoffMs ??= 20;
        config.FetchMaxBytes ??= 16 * 1024 * 1024;
        config.EnablePartitionEof = false;
        // Sinks see no Kafka headers: not copying them into every ConsumeResult saves the poll thread work.
        if (config.Get("dotnet.consumer.consume.result.fields") is null) config.ConsumeResultFields = "topic,timestamp";
        return config;
    }
}
