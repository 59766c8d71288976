using System.Text.Json;
using System.Text.Json.Serialization;

namespace Pipeline.Ops.Topics;

/// <summary><c>infra/kafka/topics.json</c>: the topics the pipeline needs, as code.</summary>
internal sealed class TopicsFile
{
    public List<TopicSpec> Topics { get; set; } = [];

    public static TopicsFile Load(string path)
    {
        TopicsFile? file;
        try
        {
            file = JsonSerializer.Deserialize(File.ReadAllText(path), TopicsJson.Default.TopicsFile);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: {ex.Message}", ex);
        }
        if (file is null || file.Topics.Count == 0) throw new InvalidDataException($"{path} names no topics");
        foreach (var topic in file.Topics) topic.Validate(path);
        var duplicate = file.Topics.GroupBy(t => t.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidDataException($"{path}: topic {duplicate.Key} is listed twice");
        return file;
    }
}

/// <summary>One topic: partitions, replication, retention and cleanup policy.</summary>
internal sealed class TopicSpec
{
    public string Name { get; set; } = "";
    public int Partitions { get; set; } = 6;
    public short ReplicationFactor { get; set; } = 3;
    /// <summary>retention.ms; -1 keeps forever.</summary>
    public long RetentionMs { get; set; } = 604_800_000;
    /// <summary>cleanup.policy: delete or compact.</summary>
    public string CleanupPolicy { get; set; } = "delete";

    public void Validate(string path)
    {
        if (string.IsNullOrWhiteSpace(Name)) throw new InvalidDataException($"{path}: a topic has no name");
        if (Partitions < 1) throw new InvalidDataException($"{path}: {Name}: partitions must be at least 1");
        if (ReplicationFactor < 1) throw new InvalidDataException($"{path}: {Name}: replicationFactor must be at least 1");
        if (CleanupPolicy is not ("delete" or "compact" or "compact,delete"))
            throw new InvalidDataException($"{path}: {Name}: cleanupPolicy must be delete, compact or compact,delete");
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(TopicsFile))]
internal sealed partial class TopicsJson : JsonSerializerContext;
