using Pipeline.Core.Storage;
using System.Text.Json;
using System.Text.Json.Nodes;
using Confluent.Kafka;
using Pipeline.Ops.Cli;

namespace Pipeline.Ops.Positions;

/// <summary>
/// The SIEM archive's positions: the <c>offsets</c> of its <c>checkpoint.json</c> (<c>topic</c>,
/// <c>partition</c>, <c>next</c>), replaced atomically by the sink after each batch's data is fsynced. The
/// archive belongs to one group, so the group name is not part of the lookup.
/// </summary>
internal sealed class ArchivePositions(string directory) : IPositionStore
{
    public const string CheckpointFile = "checkpoint.json";
    public const string LockFile = ".lock";

    public StoreKind Kind => StoreKind.Archive;

    public string Describe => $"SIEM archive checkpoint {CheckpointPath}";

    /// <summary>Whether the sink has archived anything there yet (until then it has no positions of its own).</summary>
    public bool HasCheckpoint => File.Exists(CheckpointPath);

    public string CheckpointPath => Path.Combine(directory, CheckpointFile);

    public IReadOnlyDictionary<TopicPartition, long> Read(string group, IReadOnlyList<TopicPartition> partitions)
    {
        var all = ReadAll(Load());
        return partitions.Where(all.ContainsKey).ToDictionary(p => p, p => all[p]);
    }

    /// <summary>
    /// Moves positions forward under the archive's lock (which the running sink holds, so this fails while it
    /// runs). Every other member of the checkpoint is kept as it is.
    /// </summary>
    public void MoveForward(IReadOnlyDictionary<TopicPartition, long> targets)
    {
        if (!Directory.Exists(directory)) throw new UsageException($"--archive {directory} does not exist");
        FileStream lockFile;
        try
        {
            lockFile = new FileStream(Path.Combine(directory, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new RefusedException($"the archive {directory} is in use: the SIEM sink is running on it; stop it first");
        }
        using (lockFile)
        {
            var checkpoint = Load();
            var current = ReadAll(checkpoint);
            foreach (var (tp, next) in targets)
                if (current.TryGetValue(tp, out var at) && next < at)
                    throw new RefusedException(BackwardsReason(tp, at, next));
            var merged = new Dictionary<TopicPartition, long>(current);
            foreach (var (tp, next) in targets) merged[tp] = next;
            var offsets = new JsonArray();
            foreach (var (tp, next) in merged.OrderBy(m => m.Key.Topic, StringComparer.Ordinal).ThenBy(m => m.Key.Partition.Value))
                offsets.Add(new JsonObject { ["topic"] = tp.Topic, ["partition"] = tp.Partition.Value, ["next"] = next });
            checkpoint["offsets"] = offsets;
            DurableFile.Replace(CheckpointPath, JsonSerializer.SerializeToUtf8Bytes(checkpoint, new JsonSerializerOptions { WriteIndented = true }));
        }
    }

    /// <summary>Why the archive cannot go back: it is append-only and hash-chained, so re-read records would be archived twice.</summary>
    public static string BackwardsReason(TopicPartition tp, long at, long target) =>
        $"the SIEM archive cannot move back ({tp.Topic}[{tp.Partition.Value}] is at {at}, asked for {target}): it is append-only and " +
        "hash-chained, so records read again would be archived a second time and nothing can take them out without breaking the chain. " +
        "To re-read a range for the SIEM, replay it into a new archive folder (replay --into siem --archive NEW_DIR).";

    private JsonObject Load()
    {
        if (!File.Exists(CheckpointPath))
            throw new UsageException($"{CheckpointPath} does not exist: the SIEM sink has not archived anything there yet (until it has, it starts from Kafka's committed offsets: use --store kafka)");
        try
        {
            return JsonNode.Parse(File.ReadAllBytes(CheckpointPath)) as JsonObject ?? throw new UsageException($"{CheckpointPath} is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new UsageException($"{CheckpointPath} is not readable: {ex.Message}", ex);
        }
    }

    private static Dictionary<TopicPartition, long> ReadAll(JsonObject checkpoint)
    {
        var offsets = new Dictionary<TopicPartition, long>();
        if (checkpoint["offsets"] is not JsonArray array) return offsets;
        foreach (var item in array.OfType<JsonObject>())
        {
            var topic = item["topic"]?.GetValue<string>();
            var partition = item["partition"]?.GetValue<int>();
            var next = item["next"]?.GetValue<long>();
            if (topic is not null && partition is not null && next is not null) offsets[new TopicPartition(topic, partition.Value)] = next.Value;
        }
        return offsets;
    }
}
