using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Pipeline.Kafka.Embedded;
using Pipeline.Ops.Cli;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Topics;

/// <summary>Creates topics. Kafka does it through the admin API; the embedded cluster only through its own call.</summary>
internal interface ITopicCreator
{
    /// <summary>Creates each topic with its partitions and replication factor, and its configs where the cluster takes them.</summary>
    void Create(IReadOnlyList<TopicSpec> topics);

    /// <summary>What the creator cannot set, to say in the output (null: everything).</summary>
    string? Limitation { get; }
}

/// <summary>CreateTopics through the Kafka admin API, with <c>retention.ms</c> and <c>cleanup.policy</c>.</summary>
internal sealed class AdminTopicCreator(KafkaConnection kafka) : ITopicCreator
{
    public string? Limitation => null;

    public void Create(IReadOnlyList<TopicSpec> topics)
    {
        if (topics.Count == 0) return;
        using var admin = kafka.Admin();
        if (AdminSupport.Problem(admin) is { } problem)
            throw new UsageException($"could not create {string.Join(", ", topics.Select(t => t.Name))}: the broker does not answer the admin API ({problem}); " +
                "the embedded cluster cannot create topics that way: `local` creates its topics itself");
        try
        {
            admin.CreateTopicsAsync(topics.Select(t => new TopicSpecification
            {
                Name = t.Name,
                NumPartitions = t.Partitions,
                ReplicationFactor = t.ReplicationFactor,
                Configs = new Dictionary<string, string>
                {
                    ["retention.ms"] = t.RetentionMs.ToString(CultureInfo.InvariantCulture),
                    ["cleanup.policy"] = t.CleanupPolicy,
                },
            }), new CreateTopicsOptions { RequestTimeout = KafkaConnection.RequestTimeout, OperationTimeout = KafkaConnection.RequestTimeout }).GetAwaiter().GetResult();
        }
        catch (CreateTopicsException ex)
        {
            // Another applier may have created one meanwhile: that is the wished state, not an error.
            var failed = ex.Results.Where(r => r.Error.IsError && r.Error.Code != ErrorCode.TopicAlreadyExists).ToList();
            if (failed.Count == 0) return;
            var unsupported = failed.Any(r => r.Error.Code is ErrorCode.UnsupportedVersion or ErrorCode.InvalidRequest or ErrorCode.Local_UnknownProtocol);
            throw new UsageException($"could not create {string.Join(", ", failed.Select(r => $"{r.Topic} ({r.Error.Reason})"))}" +
                (unsupported ? "; this broker does not create topics through the admin API (the embedded cluster cannot: `local` creates its topics itself)" : ""), ex);
        }
        catch (KafkaException ex)
        {
            throw new UsageException($"could not create topics on {kafka.BootstrapServers}: {ex.Error.Reason}", ex);
        }
    }
}

/// <summary>The embedded cluster's own call; it keeps no topic configs, so retention and cleanup policy are not set there.</summary>
internal sealed class EmbeddedTopicCreator(EmbeddedKafkaCluster cluster) : ITopicCreator
{
    public string? Limitation => "the embedded cluster keeps no topic configs (retention.ms, cleanup.policy are not set there)";

    public void Create(IReadOnlyList<TopicSpec> topics)
    {
        foreach (var topic in topics) cluster.CreateTopic(topic.Name, topic.Partitions, Math.Min(topic.ReplicationFactor, cluster.BrokerCount));
    }
}
