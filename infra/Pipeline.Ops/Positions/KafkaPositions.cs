using Confluent.Kafka;
using Pipeline.Ops.Kafka;

namespace Pipeline.Ops.Positions;

/// <summary>The group's committed offsets in Kafka.</summary>
internal sealed class KafkaPositions(ClusterView cluster) : IPositionStore
{
    public string Describe => "Kafka committed offsets";

    public IReadOnlyDictionary<TopicPartition, long> Read(string group, IReadOnlyList<TopicPartition> partitions) => cluster.Committed(group, partitions);
}
