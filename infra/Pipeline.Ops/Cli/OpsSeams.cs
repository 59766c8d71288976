using Pipeline.Ops.Kafka;
using Pipeline.Ops.Topics;

namespace Pipeline.Ops.Cli;

/// <summary>
/// The parts of the commands that differ between a real Kafka cluster and the embedded one, and that tests
/// replace. Each is null by default, meaning: talk to the cluster with the Kafka admin and consumer APIs.
/// </summary>
internal sealed class OpsSeams
{
    /// <summary>Creates topics; null uses the Kafka admin API (CreateTopics), which the embedded cluster lacks.</summary>
    public Func<KafkaConnection, ITopicCreator>? TopicCreator { get; init; }

    /// <summary>Finds offsets by time; null asks Kafka (OffsetsForTimes) and falls back to reading record timestamps when the broker cannot.</summary>
    public Func<KafkaConnection, ITimeIndex>? TimeIndex { get; init; }

    /// <summary>Says whether a group has live members; null asks Kafka (DescribeConsumerGroups).</summary>
    public Func<KafkaConnection, IGroupInspector>? GroupInspector { get; init; }

    /// <summary>Where the built worker executables are; null uses this repository's build output.</summary>
    public Func<string, string?>? WorkerExecutable { get; init; }
}
