using Confluent.Kafka;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Positions;

/// <summary>
/// The group's committed offsets in Kafka, as every Kafka tool reads them. <paramref name="why"/> says why they
/// are read for a group that keeps its own store (that store could not be found).
/// </summary>
internal sealed class KafkaPositions(ClusterView cluster, string? why = null) : IPositionStore
{
    public StoreKind Kind => StoreKind.Kafka;

    public string Describe => why is null ? "Kafka committed offsets" : $"Kafka committed offsets ({why})";

    public IReadOnlyDictionary<TopicPartition, long> Read(string group, IReadOnlyList<TopicPartition> partitions) => cluster.Committed(group, partitions);
}
