using Confluent.Kafka;

namespace Pipeline.Ops.Positions;

/// <summary>Where a group's position is kept: Kafka's committed offsets, or an exactly-once sink's own store.</summary>
internal enum StoreKind
{
    /// <summary>Kafka's committed offsets: the at-least-once sinks (files). Every sink also commits here after writing.</summary>
    Kafka,
    /// <summary>The <c>consumer_offsets</c> table: the NOC sink and the top-k aggregator (exactly once).</summary>
    Postgres,
    /// <summary>The SIEM archive's <c>checkpoint.json</c> (exactly once).</summary>
    Archive,
}

/// <summary>Reads a group's positions: per partition, the next offset it will read (absent: nothing stored).</summary>
internal interface IPositionStore
{
    StoreKind Kind { get; }

    /// <summary>Says where the positions come from, for the command's output.</summary>
    string Describe { get; }

    IReadOnlyDictionary<TopicPartition, long> Read(string group, IReadOnlyList<TopicPartition> partitions);
}

internal static class StoreKinds
{
    /// <summary>The name the command line and the output use.</summary>
    public static string Name(this StoreKind kind) => kind.ToString().ToLowerInvariant();

    public static StoreKind Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "kafka" => StoreKind.Kafka,
        "postgres" => StoreKind.Postgres,
        "archive" => StoreKind.Archive,
        _ => throw new Cli.UsageException($"--store must be kafka, postgres or archive, not '{text}'"),
    };
}
