using Confluent.Kafka;
using Pipeline.Core.Hosting;
using Pipeline.Kafka;
using Pipeline.Ops.Cli;

namespace Pipeline.Ops.Kafka;

/// <summary>
/// How the commands reach Kafka: <c>--kafka</c>, else <c>Kafka__BootstrapServers</c>, else
/// <c>KAFKA_BOOTSTRAP_SERVERS</c> (which <c>.pipeline/local.env</c> exports); any librdkafka setting passes
/// through as <c>Kafka__Properties__&lt;name&gt;</c> (TLS, SASL), from the environment or a secret file of
/// <c>PIPELINE_SECRETS_DIR</c>, as for every executable of the pipeline.
/// </summary>
internal sealed class KafkaConnection
{
    /// <summary>How long one request may take before the command says Kafka is not reachable.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    private KafkaConnection(KafkaOptions options) => Options = options;

    public KafkaOptions Options { get; }

    public string BootstrapServers => Options.BootstrapServers;

    public static KafkaConnection Resolve(string? option)
    {
        var bootstrap = First(option, Environment.GetEnvironmentVariable("Kafka__BootstrapServers"), Environment.GetEnvironmentVariable("KAFKA_BOOTSTRAP_SERVERS"))
            ?? throw new UsageException("no Kafka to talk to: pass --kafka host:port, or set KAFKA_BOOTSTRAP_SERVERS (`source .pipeline/local.env` for a local run)");
        var options = new KafkaOptions { BootstrapServers = bootstrap };
        const string prefix = "Kafka__Properties__";
        foreach (System.Collections.DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            var name = (string)variable.Key;
            if (name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length)
                options.Properties[name[prefix.Length..]] = (string?)variable.Value ?? "";
        }
        // Secret files (PIPELINE_SECRETS_DIR), e.g. Kafka__Properties__sasl.password, over the environment.
        foreach (var (name, value) in SecretFiles.WithPrefix(prefix)) options.Properties[name] = value;
        return new KafkaConnection(options);
    }

    public static KafkaConnection To(string bootstrapServers) => new(new KafkaOptions { BootstrapServers = bootstrapServers });

    public IAdminClient Admin() =>
        new AdminClientBuilder(Config<AdminClientConfig>()).SetLogHandler(static (_, _) => { }).Build();

    /// <summary>A consumer that never commits on its own; with a group id it can read and (as a member) write that group's offsets.</summary>
    public IConsumer<byte[]?, byte[]> Consumer(string groupId, Action<ConsumerConfig>? configure = null, Action<ConsumerBuilder<byte[]?, byte[]>>? build = null)
    {
        var config = Config<ConsumerConfig>();
        config.GroupId = groupId;
        config.EnableAutoCommit = false;
        config.EnableAutoOffsetStore = false;
        config.EnablePartitionEof = false;
        config.ClientId ??= "pipeline-ops";
        configure?.Invoke(config);
        var builder = new ConsumerBuilder<byte[]?, byte[]>(config).SetLogHandler(static (_, _) => { });
        build?.Invoke(builder);
        return builder.Build();
    }

    private T Config<T>() where T : ClientConfig, new()
    {
        var config = Options.ToConfig<T>();
        config.SocketTimeoutMs ??= (int)RequestTimeout.TotalMilliseconds;
        return config;
    }

    private static string? First(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}
