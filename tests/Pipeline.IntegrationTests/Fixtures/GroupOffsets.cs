using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Pipeline.IntegrationTests.Fixtures;

/// <summary>
/// A group's committed offsets as outside tools read them (kafka-consumer-groups.sh, Burrow, Kafka UIs,
/// exporters): the admin API's ListConsumerGroupOffsets (an OffsetFetch to the group's coordinator), asked
/// without joining the group. Partitions with no committed offset are left out.
/// </summary>
internal static class GroupOffsets
{
    public static async Task<Dictionary<int, long>> CommittedAsync(string bootstrap, string group, string topic, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = bootstrap }).SetLogHandler((_, _) => { }).Build();
        var request = new ConsumerGroupTopicPartitions(group, Enumerable.Range(0, partitions).Select(p => new TopicPartition(topic, p)).ToList());
        var results = await admin.ListConsumerGroupOffsetsAsync([request], new ListConsumerGroupOffsetsOptions { RequestTimeout = TimeSpan.FromSeconds(10) });
        return results.Single().Partitions.Where(p => p.Error.Code == ErrorCode.NoError && p.Offset.Value >= 0)
            .ToDictionary(p => p.Partition.Value, p => p.Offset.Value);
    }
}
