using System.Globalization;
using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Topics;

/// <summary>How <c>topics apply</c> runs: a replication factor for every topic (docker compose has one broker), a cap, a dry run.</summary>
internal sealed record ApplySettings(short? ReplicationFactor = null, int? MaxReplicationFactor = null, bool DryRun = false);

/// <summary>What <c>topics apply</c> found and did.</summary>
internal sealed record ApplyResult(IReadOnlyList<string> Created, IReadOnlyList<string> InSync, IReadOnlyList<string> Drift, IReadOnlyList<string> Lines)
{
    public bool HasDrift => Drift.Count > 0;
}

/// <summary>
/// Topics as code: compares <c>topics.json</c> with the cluster, creates the topics that are missing and
/// reports every difference of the others (partitions, replication factor, retention.ms, cleanup.policy)
/// as drift, with the command that would fix it. It never changes an existing topic: fewer partitions
/// cannot be undone, and a retention someone raised on purpose should not be lowered by a deploy.
/// </summary>
internal static class TopicsApplier
{
    public static ApplyResult Apply(TopicsFile file, ApplySettings settings, KafkaConnection kafka, ITopicCreator creator)
    {
        var wanted = file.Topics.Select(t => Effective(t, settings)).ToList();
        using var cluster = new ClusterView(kafka);
        var metadata = cluster.Metadata();
        var existing = metadata.Topics.Where(t => t.Error.Code == ErrorCode.NoError && t.Partitions.Count > 0).ToDictionary(t => t.Topic);
        var (configs, configsProblem) = DescribeConfigs(kafka, wanted.Where(t => existing.ContainsKey(t.Name)).Select(t => t.Name).ToList());

        var lines = new List<string>();
        var created = new List<string>();
        var inSync = new List<string>();
        var drift = new List<string>();
        var missing = wanted.Where(t => !existing.ContainsKey(t.Name)).ToList();
        if (!settings.DryRun) creator.Create(missing);
        foreach (var topic in wanted)
        {
            if (!existing.TryGetValue(topic.Name, out var found))
            {
                created.Add(topic.Name);
                lines.Add($"{(settings.DryRun ? "missing" : "created"),-8} {topic.Name,-16} partitions {topic.Partitions}, replication {topic.ReplicationFactor}, retention.ms {topic.RetentionMs}, cleanup.policy {topic.CleanupPolicy}");
                continue;
            }
            var differences = Differences(topic, found, configs.GetValueOrDefault(topic.Name));
            if (differences.Count == 0)
            {
                inSync.Add(topic.Name);
                lines.Add($"{"ok",-8} {topic.Name}");
                continue;
            }
            drift.Add(topic.Name);
            foreach (var difference in differences) lines.Add($"{"drift",-8} {topic.Name,-16} {difference}");
        }
        if (created.Count > 0 && creator.Limitation is { } limitation) lines.Add($"note     {limitation}");
        if (configsProblem is not null && existing.Count > 0) lines.Add($"note     retention.ms and cleanup.policy not compared: {configsProblem}");
        lines.Add($"{created.Count} {(settings.DryRun ? "missing" : "created")}, {inSync.Count} in sync, {drift.Count} with drift");
        return new ApplyResult(created, inSync, drift, lines);
    }

    private static TopicSpec Effective(TopicSpec topic, ApplySettings settings)
    {
        var replication = settings.ReplicationFactor ?? topic.ReplicationFactor;
        if (settings.MaxReplicationFactor is { } max && replication > max) replication = (short)max;
        return new TopicSpec { Name = topic.Name, Partitions = topic.Partitions, ReplicationFactor = replication, RetentionMs = topic.RetentionMs, CleanupPolicy = topic.CleanupPolicy };
    }

    private static List<string> Differences(TopicSpec wanted, TopicMetadata found, IReadOnlyDictionary<string, string>? configs)
    {
        var differences = new List<string>();
        var partitions = found.Partitions.Count;
        if (partitions < wanted.Partitions)
            differences.Add($"has {partitions} partitions, the file says {wanted.Partitions} (partitions can only grow; keys move to other partitions when they do: kafka-topics.sh --alter --topic {wanted.Name} --partitions {wanted.Partitions})");
        else if (partitions > wanted.Partitions)
            differences.Add($"has {partitions} partitions, the file says {wanted.Partitions} (Kafka cannot remove partitions: change the file to {partitions})");
        var replication = found.Partitions.Min(p => p.Replicas.Length);
        if (replication != wanted.ReplicationFactor)
            differences.Add($"has replication factor {replication}, the file says {wanted.ReplicationFactor} (kafka-reassign-partitions.sh changes it)");
        if (configs is not null)
        {
            var retention = wanted.RetentionMs.ToString(CultureInfo.InvariantCulture);
            if (configs.TryGetValue("retention.ms", out var r) && r != retention)
                differences.Add($"has retention.ms {r}, the file says {retention} (kafka-configs.sh --alter --entity-type topics --entity-name {wanted.Name} --add-config retention.ms={retention})");
            if (configs.TryGetValue("cleanup.policy", out var c) && c != wanted.CleanupPolicy)
                differences.Add($"has cleanup.policy {c}, the file says {wanted.CleanupPolicy} (kafka-configs.sh --alter --entity-type topics --entity-name {wanted.Name} --add-config cleanup.policy=[{wanted.CleanupPolicy}])");
        }
        return differences;
    }

    /// <summary>retention.ms and cleanup.policy of existing topics, or why they could not be read (the embedded cluster has no DescribeConfigs).</summary>
    private static (Dictionary<string, IReadOnlyDictionary<string, string>> Configs, string? Problem) DescribeConfigs(KafkaConnection kafka, List<string> topics)
    {
        var configs = new Dictionary<string, IReadOnlyDictionary<string, string>>();
        if (topics.Count == 0) return (configs, null);
        using var admin = kafka.Admin();
        if (AdminSupport.Problem(admin) is { } problem) return (configs, $"the broker does not describe topic configs ({problem})");
        try
        {
            var results = admin.DescribeConfigsAsync(topics.Select(t => new ConfigResource { Type = ResourceType.Topic, Name = t }),
                new DescribeConfigsOptions { RequestTimeout = KafkaConnection.RequestTimeout }).GetAwaiter().GetResult();
            foreach (var result in results)
                configs[result.ConfigResource.Name] = result.Entries.Where(e => e.Key is "retention.ms" or "cleanup.policy").ToDictionary(e => e.Key, e => e.Value.Value);
            return (configs, null);
        }
        catch (DescribeConfigsException ex)
        {
            return (configs, "the broker does not describe topic configs (" + (ex.Results.FirstOrDefault(r => r.Error.IsError)?.Error.Reason ?? ex.Message) + ")");
        }
        catch (KafkaException ex)
        {
            return (configs, "the broker does not describe topic configs (" + ex.Error.Reason + ")");
        }
    }
}
